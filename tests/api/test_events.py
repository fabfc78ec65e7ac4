"""Events (SPEC §9): written in the transaction of the change they report, each merchant's in its
own view, readable oldest first from a cursor at GET /api/v1/events."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from exchange import clock
from exchange.db.unit_of_work import unit_of_work
from exchange.events import emit
from exchange.events.models import Event
from exchange.events.relay import relay
from tests.helpers import assert_problem, at, make_offer

FEED = "/api/v1/events"


def feed(api, actor, **query) -> list[dict]:
    """What the merchant's feed shows once the relay has numbered everything committed."""
    relay()
    r = api.get(FEED, actor.key, query_string={"limit": 500, **query})
    assert r.status_code == 200, r.get_json()
    return r.get_json()["items"]


def of_type(events: list[dict], type: str) -> list[dict]:
    return [e for e in events if e["type"] == type]


def redeem(api, world, order_ref="POS-0001", amount=25000) -> dict:
    coupon = api.post(f"/api/v1/offers/{world.offer['id']}/coupons", world.stroller.key, json={}).get_json()
    r = api.post("/api/v1/redemptions", world.maternity.terminal_key, headers={"Idempotency-Key": str(uuid.uuid4())},
                 json={"payload": coupon["items"][0]["payload"], "order_amount": amount, "order_ref": order_ref})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_a_redemption_tells_the_owner_its_till_data_and_the_distributor_only_its_sale(api, world):
    redemption = redeem(api, world, order_ref="POS-SECRET-7")
    [owner] = of_type(feed(api, world.maternity), "coupon.redeemed")
    [distributor] = of_type(feed(api, world.stroller), "coupon.redeemed")
    assert owner["data"] == redemption  # the owner's API view, exactly as the till got it
    assert owner["data"]["order_ref"] == "POS-SECRET-7" and owner["merchant_id"] == world.maternity.id
    assert distributor["merchant_id"] == world.stroller.id
    assert distributor["data"] == api.get("/api/v1/redemptions", world.stroller.key,
                                          query_string={"role": "distributor"}).get_json()["items"][0]
    assert "POS-SECRET-7" not in json.dumps(distributor) and "store_id" not in distributor["data"]
    assert owner["id"].startswith("evt_") and owner["id"] != distributor["id"]
    assert owner["created"] == redemption["redeemed_at"]
    assert feed(api, world.outsider) == []


def test_a_refused_redemption_writes_no_event(api, world, session):
    coupon = api.post(f"/api/v1/offers/{world.offer['id']}/coupons", world.stroller.key, json={}).get_json()
    before = session.scalar(select(func.count()).select_from(Event))
    r = api.post("/api/v1/redemptions", world.maternity.terminal_key, headers={"Idempotency-Key": "too-small"},
                 json={"payload": coupon["items"][0]["payload"], "order_amount": 100})
    assert r.status_code == 422
    assert session.scalar(select(func.count()).select_from(Event)) == before


def test_a_reversal_tells_both_sides(api, world):
    redemption = redeem(api, world)
    r = api.post(f"/api/v1/redemptions/{redemption['id']}/reversals", world.maternity.terminal_key,
                 headers={"Idempotency-Key": "refund-1"}, json={"refund_amount": 22000, "reason": "退货"})
    assert r.status_code == 201, r.get_json()
    [owner] = of_type(feed(api, world.maternity), "redemption.reversed")
    [distributor] = of_type(feed(api, world.stroller), "redemption.reversed")
    assert owner["data"]["reversal"] == distributor["data"]["reversal"] == r.get_json()
    assert owner["data"]["redemption"]["status"] == "reversed" and owner["data"]["redemption"]["order_ref"]
    assert "order_ref" not in distributor["data"]["redemption"]


def test_partnership_and_terms_moves_reach_both_sides(api, world):
    pid = api.get("/api/v1/partnerships", world.stroller.key).get_json()["items"][0]["id"]
    assert api.post(f"/api/v1/partnerships/{pid}/pause", world.maternity.key).status_code == 200
    assert api.post(f"/api/v1/partnerships/{pid}/resume", world.maternity.key).status_code == 200
    terms = api.post(f"/api/v1/partnerships/{pid}/terms", world.stroller.key,
                     json={"commission": {"type": "percent", "rate_bps": 700}, "currency": "CNY"}).get_json()
    assert api.post(f"/api/v1/partnerships/{pid}/terms/{terms['version']}/accept",
                    world.maternity.key).status_code == 200
    assert api.post(f"/api/v1/partnerships/{pid}/terminate", world.stroller.key).status_code == 200
    expected = ["partnership.proposed", "partnership.accepted", "partnership.paused", "partnership.resumed",
                "terms.proposed", "terms.accepted", "partnership.terminated"]
    for side in (world.stroller, world.maternity):
        moves = [e for e in feed(api, side) if e["type"].split(".")[0] in ("partnership", "terms")]
        assert [e["type"] for e in moves] == expected
        assert moves[-1]["data"] == api.get(f"/api/v1/partnerships/{pid}", side.key).get_json()
        assert moves[5]["data"]["terms"]["version"] == terms["version"]


def test_offer_moves_and_a_used_up_budget_tell_the_owner(api, world):
    offer = make_offer(api, world.maternity, budget=3000)
    for action in ("pause", "resume"):
        assert api.post(f"/api/v1/offers/{offer['id']}/{action}", world.maternity.key).status_code == 200
    redeem(api, type(world)(world.stroller, world.maternity, world.outsider, offer))
    assert api.post(f"/api/v1/offers/{offer['id']}/end", world.maternity.key).status_code == 200
    mine = [e for e in feed(api, world.maternity) if e["type"].startswith("offer.")]
    assert [e["type"] for e in mine] == ["offer.paused", "offer.resumed", "offer.budget_exhausted", "offer.ended"]
    assert mine[2]["data"]["id"] == offer["id"]
    assert not [e for e in feed(api, world.stroller) if e["type"].startswith("offer.")]


def test_keys_and_tills_tell_their_merchant(api, world):
    key = api.post("/api/v1/merchants/me/api-keys", world.maternity.key, json={"label": "ERP"}).get_json()
    assert api.delete(f"/api/v1/merchants/me/api-keys/{key['id']}", world.maternity.key).status_code == 204
    pairing = api.post(f"/api/v1/stores/{world.maternity.store_id}/till-pairings", world.maternity.key,
                       json={"label": "收银台 1"}).get_json()
    till = api.post("/api/v1/till-pairings/exchange", json={"code": pairing["code"]}).get_json()
    assert api.delete(f"/api/v1/stores/{world.maternity.store_id}/tills/{till['till_id']}",
                      world.maternity.key).status_code == 204
    events = feed(api, world.maternity)
    created, revoked = of_type(events, "api_key.created"), of_type(events, "api_key.revoked")
    assert [e["data"]["id"] for e in created + revoked] == [key["id"], key["id"]]
    assert "key" not in created[0]["data"]  # never the secret
    paired, unpaired = of_type(events, "till.paired"), of_type(events, "till.unpaired")
    assert paired[0]["data"]["id"] == unpaired[0]["data"]["id"] == till["till_id"]
    assert (paired[0]["data"]["status"], unpaired[0]["data"]["status"]) == ("paired", "unpaired")


def test_a_finished_batch_and_its_sheet_tell_the_distributor(api, world, monkeypatch):
    from exchange.coupons import batches, print_runs, sheets

    monkeypatch.setattr(sheets, "INLINE_LIMIT", 2)
    batch = api.post(f"/api/v1/offers/{world.offer['id']}/coupon-batches", world.stroller.key,
                     json={"count": 3}).get_json()
    batches.work("worker-a")
    assert api.get(f"/api/v1/coupon-batches/{batch['id']}/sheet.pdf", world.stroller.key).status_code == 202
    print_runs.draw_pending_sheets("worker-a")
    events = feed(api, world.stroller)
    [done], [ready] = of_type(events, "batch.done"), of_type(events, "sheet.ready")
    assert done["data"]["id"] == batch["id"] and done["data"]["status"] == "done"
    assert ready["data"]["sheet_url"] == f"/api/v1/coupon-batches/{batch['id']}/sheet.pdf"
    assert ready["data"]["zip_url"] == f"/api/v1/coupon-batches/{batch['id']}/sheets.zip"


def test_a_closed_month_tells_each_merchant_its_statement_as_the_api_shows_it(month, api):  # noqa: F811
    m = month
    m.redeem(m.maternity, m.stroller)
    m.redeem(m.maternity, m.stroller)
    m.redeem(m.stroller, m.maternity)
    at("2026-11-02T09:00:00+08:00")
    assert m.close("2026-10").status_code == 201
    for actor in (m.stroller, m.maternity):
        [closed] = of_type(feed(api, actor), "settlement.closed")
        assert closed["data"] == m.statement(actor, "2026-10")  # its own view, net position and all
        assert closed["data"]["merchant"]["id"] == actor.id
    assert of_type(feed(api, m.stroller), "settlement.closed")[0]["data"]["net_position"] == 1100
    assert not of_type(feed(api, m.toys), "settlement.closed")  # no obligations in October
    r = api.post("/api/v1/settlements/2026-10/confirm", m.stroller.key, json={"partner_id": m.maternity.id})
    assert r.status_code == 200, r.get_json()
    # Both sides hear of it, each with the obligation from its own side, as its statement shows it.
    [mine] = of_type(feed(api, m.stroller), "statement.confirmed")
    [theirs] = of_type(feed(api, m.maternity), "statement.confirmed")
    assert mine["data"] == {"period": "2026-10", "obligation": r.get_json()}
    assert theirs["data"] == {"period": "2026-10", "obligation": m.obligation(m.maternity, m.stroller, "2026-10")}
    assert theirs["data"]["obligation"]["confirmed_by_partner"] and not theirs["data"]["obligation"]["confirmed_by_you"]


def test_a_month_closed_with_multilateral_netting_tells_each_merchant_its_own_statement(month, api):  # noqa: F811
    m = month
    m.redeem(m.maternity, m.stroller)
    m.redeem(m.stroller, m.toys)
    m.redeem(m.toys, m.maternity)
    at("2026-11-02T09:00:00+08:00")
    assert m.close("2026-10", netting="multilateral", min_transfer=0).status_code == 201
    for actor in (m.stroller, m.maternity, m.toys):
        [closed] = of_type(feed(api, actor), "settlement.closed")
        assert closed["data"] == m.statement(actor, "2026-10")
        assert closed["data"]["netting"] == "multilateral"


def test_a_dispute_opened_and_resolved_tells_both_sides(month, api):  # noqa: F811
    m = month
    m.redeem(m.maternity, m.stroller)
    at("2026-11-02T09:00:00+08:00")
    assert m.close("2026-10", min_transfer=0).status_code == 201
    dispute = api.post("/api/v1/settlements/2026-10/disputes", m.maternity.key,
                       json={"partner_id": m.stroller.id, "reason": "核对中"}).get_json()
    resolved = api.post(f"/api/v1/settlements/2026-10/disputes/{dispute['id']}/resolve", m.operator,
                        json={"resolution": "无误"})
    assert resolved.status_code == 200, resolved.get_json()
    for actor in (m.stroller, m.maternity):
        events = feed(api, actor)
        assert [e["data"] for e in of_type(events, "dispute.opened")] == [dispute]
        assert [e["data"] for e in of_type(events, "dispute.resolved")] == [resolved.get_json()]


def test_the_feed_pages_oldest_first_from_a_cursor_and_filters_types(api, world):
    for n in range(3):
        redeem(api, world, order_ref=f"POS-{n}")
    everything = feed(api, world.maternity)
    first = api.get(FEED, world.maternity.key, query_string={"limit": 2}).get_json()
    assert first["items"] == everything[:2] and first["has_more"] is True
    rest = api.get(FEED, world.maternity.key, query_string={"after": first["next_after"]}).get_json()
    assert rest["items"] == everything[2:] and rest["has_more"] is False
    assert rest["next_after"] == everything[-1]["id"]
    caught_up = api.get(FEED, world.maternity.key, query_string={"after": rest["next_after"]}).get_json()
    assert caught_up == {"items": [], "next_after": rest["next_after"], "has_more": False}
    redeemed = feed(api, world.maternity, types="coupon.redeemed")
    assert [e["data"]["order_ref"] for e in redeemed] == ["POS-0", "POS-1", "POS-2"]
    both = feed(api, world.maternity, types="coupon.redeemed,partnership.accepted")
    assert {e["type"] for e in both} == {"coupon.redeemed", "partnership.accepted"}


def test_the_feed_refuses_unknown_types_and_other_merchants_cursors(api, world):
    assert_problem(api.get(FEED, world.maternity.key, query_string={"types": "coupon.stolen"}), 422)
    theirs = feed(api, world.stroller)[0]["id"]
    r = assert_problem(api.get(FEED, world.maternity.key, query_string={"after": theirs}), 422)
    assert "after" in r["errors"]
    assert_problem(api.get(FEED, world.maternity.key, query_string={"after": "evt_made_up"}), 422)
    assert_problem(api.get(FEED, world.maternity.key, query_string={"limit": 501}), 422)
    assert_problem(api.get(FEED, world.maternity.terminal_key), 403, "wrong_key_kind")
    assert_problem(api.get(FEED), 401)


def test_an_event_committed_late_still_comes_after_the_cursor_a_client_holds(api, world):
    """A transaction that began first may commit last: its event, created earlier, must still
    reach a client that already read past the events committed before it (the relay numbers
    events as they become visible, not as they were created)."""
    early = clock.now()
    redeem(api, world)
    seen = feed(api, world.maternity)
    with unit_of_work() as uow:  # committed now, created before everything seen
        late = emit(uow.session, world.maternity.id, "api_key.created", {"id": 0}, at=early - timedelta(hours=1))
    newer = feed(api, world.maternity, after=seen[-1]["id"])
    assert [e["id"] for e in newer] == [late]


def test_events_are_only_visible_once_numbered_by_the_relay(api, world, session):
    redeem(api, world)
    assert api.get(FEED, world.maternity.key).get_json()["items"] == []  # committed, not yet numbered
    assert relay() > 0 and relay() == 0
    assert api.get(FEED, world.maternity.key).get_json()["items"]
    assert session.scalar(select(func.count()).select_from(Event).where(Event.seq.is_(None))) == 0


def test_a_pass_numbers_at_most_its_limit_in_the_order_written_on_from_the_last_number(api, world, session):
    relay()
    top = session.scalar(select(func.max(Event.seq)))
    base = clock.now()
    with unit_of_work() as uow:  # written out of order: the numbers follow `created`
        ids = [emit(uow.session, world.maternity.id, "api_key.created", {"id": n}, at=base + timedelta(seconds=s))
               for n, s in enumerate((3, 1, 2, 0, 4))]
    assert relay(limit=3) == 3 and relay(limit=3) == 2 and relay() == 0
    session.expire_all()
    numbered = dict(session.execute(select(Event.id, Event.seq).where(Event.id.in_(ids))).all())
    assert [numbered[i] for i in (ids[3], ids[1], ids[2], ids[0], ids[4])] == list(range(top + 1, top + 6))


def test_an_event_is_written_only_inside_the_unit_of_work_of_its_change(world, session):
    with pytest.raises(RuntimeError, match="inside the unit of work"):
        emit(session, world.maternity.id, "api_key.created", {"id": 0})


def test_a_percentage_offers_budget_is_used_up_when_it_drops_below_one_full_discount(api, world):
    """10% off, at most ¥50, ¥60 of budget: ¥30 off a ¥300 order leaves ¥30 — less than one coupon's
    full ¥50, so the offer honours no more coupons (not even a ¥200 order's ¥20, which would fit:
    the page and the till agree on every order) and its owner is told then, once."""
    offer = make_offer(api, world.maternity, budget=6000,
                       discount={"type": "percent", "rate_bps": 1000, "max_amount": 5000})
    coupons = api.post(f"/api/v1/offers/{offer['id']}/coupons", world.stroller.key, json={"count": 2}).get_json()

    def redeem_one(coupon, amount):
        return api.post("/api/v1/redemptions", world.maternity.terminal_key,
                        headers={"Idempotency-Key": str(uuid.uuid4())},
                        json={"payload": coupon["payload"], "order_amount": amount})

    assert redeem_one(coupons["items"][0], 30000).status_code == 201
    [used_up] = of_type(feed(api, world.maternity), "offer.budget_exhausted")
    assert used_up["data"]["id"] == offer["id"]
    assert_problem(redeem_one(coupons["items"][1], 20000), 422, "budget_exhausted")
    assert len(of_type(feed(api, world.maternity), "offer.budget_exhausted")) == 1
