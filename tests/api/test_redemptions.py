"""Redemption at the partner's till: verify, redeem exactly once, reverse; CPS in the ledger."""

import uuid

import pytest
from sqlalchemy import func, select

from exchange.audit import AuditEvent
from exchange.ledger.models import LedgerEntry
from exchange.redemptions.models import Redemption
from exchange.redemptions.reconciliation import check_ledger
from tests.helpers import assert_problem, make_offer, partner_up


def issue(api, world, offer=None, **extra):
    offer = offer or world.offer
    r = api.post(f"/api/v1/offers/{offer['id']}/coupons", world.stroller.key, json={"count": 1, **extra})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["items"][0]


def redeem(api, key, payload, amount=25000, idem=None, **extra):
    return api.post("/api/v1/redemptions", key, json={"payload": payload, "order_amount": amount, **extra},
                    headers={"Idempotency-Key": idem or str(uuid.uuid4())})


def test_cashier_redeems_a_partners_coupon_and_commission_is_owed(api, world, session):
    coupon = issue(api, world)
    r = redeem(api, world.maternity.terminal_key, coupon["landing_url"], order_ref="POS-1001")
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["discount"] == 3000 and body["paid_amount"] == 22000 and body["order_amount"] == 25000
    assert body["commission"] == {"amount": 1100, "clawed_back": 0, "payer_id": world.maternity.id,
                                  "payee_id": world.stroller.id}
    assert body["store_id"] == world.maternity.store_id and body["status"] == "redeemed"
    # The answer is the owner's view of the redemption, as the API shows it afterwards.
    assert api.get(f"/api/v1/redemptions/{body['id']}", world.maternity.key).get_json() == body
    entries = session.execute(select(LedgerEntry.merchant_id, LedgerEntry.amount).order_by(LedgerEntry.id)).all()
    assert sorted(entries) == sorted([(world.stroller.id, 1100), (world.maternity.id, -1100)])
    assert check_ledger(session) == []
    assert session.scalar(select(AuditEvent.id).where(AuditEvent.action == "coupon.redeemed"))


def test_verify_writes_nothing_and_tells_the_discount(api, world, session):
    coupon = issue(api, world)
    r = api.post("/api/v1/redemptions/verify", world.maternity.terminal_key,
                 json={"payload": coupon["payload"], "order_amount": 25000})
    assert r.get_json() | {} == {**r.get_json(), "valid": True, "discount": 3000, "payable": 22000}
    assert r.get_json()["title"] == world.offer["title"]  # what the till shows the cashier
    low = api.post("/api/v1/redemptions/verify", world.maternity.terminal_key,
                   json={"payload": coupon["payload"], "order_amount": 100}).get_json()
    assert low["valid"] is False and low["code"] == "below_min_spend"
    assert session.scalar(select(func.count()).select_from(Redemption)) == 0


def test_payload_may_be_the_link_the_token_or_the_typed_code(api, world):
    for form in ("landing_url", "payload", "code"):
        coupon = issue(api, world)
        value = coupon[form] if form != "code" else coupon["code"].lower().replace("-", " ")
        assert redeem(api, world.maternity.terminal_key, value).status_code == 201, form
    upper = issue(api, world)
    link = upper["landing_url"].replace("http://exchange.test/c/", "HTTP://EXCHANGE.TEST/C/")
    assert redeem(api, world.maternity.terminal_key, link).status_code == 201


def test_retry_with_the_same_key_replays_the_first_answer(api, world, session):
    coupon = issue(api, world)
    first = redeem(api, world.maternity.terminal_key, coupon["payload"], idem="till-7-order-1")
    again = redeem(api, world.maternity.terminal_key, coupon["payload"], idem="till-7-order-1")
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert session.scalar(select(func.count()).select_from(Redemption)) == 1
    other = redeem(api, world.maternity.terminal_key, coupon["payload"], amount=30000, idem="till-7-order-1")
    assert_problem(other, 422, "idempotency_conflict")


def test_second_redemption_of_a_single_use_coupon_is_refused(api, world):
    coupon = issue(api, world)
    assert redeem(api, world.maternity.terminal_key, coupon["payload"]).status_code == 201
    assert_problem(redeem(api, world.maternity.terminal_key, coupon["payload"]), 409, "coupon_exhausted")


def test_missing_idempotency_key_is_400(api, world):
    coupon = issue(api, world)
    r = api.post("/api/v1/redemptions", world.maternity.terminal_key,
                 json={"payload": coupon["payload"], "order_amount": 25000})
    assert_problem(r, 400, "idempotency_key_missing")


def test_a_coupon_is_accepted_only_at_its_owners_stores(api, world):
    coupon = issue(api, world)
    assert_problem(redeem(api, world.stroller.terminal_key, coupon["payload"]), 403, "not_accepted_here")
    assert_problem(redeem(api, world.outsider.key, coupon["payload"], store_id=world.outsider.store_id),
                   403, "not_accepted_here")


def test_merchant_key_needs_its_own_store(api, world):
    coupon = issue(api, world)
    assert_problem(redeem(api, world.maternity.key, coupon["payload"]), 422, "validation_failed")
    assert_problem(redeem(api, world.maternity.key, coupon["payload"], store_id=world.stroller.store_id), 404)
    assert redeem(api, world.maternity.key, coupon["payload"], store_id=world.maternity.store_id).status_code == 201


def test_a_terminal_cannot_act_for_another_store(api, world):
    coupon = issue(api, world)
    r = redeem(api, world.maternity.terminal_key, coupon["payload"], store_id=world.stroller.store_id)
    assert_problem(r, 403, "wrong_store")


def test_a_paused_partnership_refuses_redemption(api, world):
    coupon = issue(api, world)
    pid = api.get("/api/v1/partnerships", world.stroller.key).get_json()["items"][0]["id"]
    api.post(f"/api/v1/partnerships/{pid}/pause", world.stroller.key)
    assert_problem(redeem(api, world.maternity.terminal_key, coupon["payload"]), 403, "partnership_inactive")


@pytest.mark.parametrize("amount", [-1, 0, 1.5, "100", 10**12 + 1, True])
def test_bad_amounts_are_refused(api, world, amount):
    coupon = issue(api, world)
    assert_problem(redeem(api, world.maternity.terminal_key, coupon["payload"], amount=amount), 422)


def test_below_min_spend_and_exhausted_budget(api, world):
    coupon = issue(api, world)
    assert_problem(redeem(api, world.maternity.terminal_key, coupon["payload"], amount=19999), 422, "below_min_spend")
    small = make_offer(api, world.maternity, budget=4000, min_spend=0, allow_free_order=True)
    first, second = issue(api, world, small), issue(api, world, small)
    assert redeem(api, world.maternity.terminal_key, first["payload"]).status_code == 201
    assert_problem(redeem(api, world.maternity.terminal_key, second["payload"]), 422, "budget_exhausted")


def test_forged_and_garbage_payloads_write_nothing(api, world, session):
    coupon = issue(api, world)
    for payload, code in [(coupon["payload"][:-4] + "AAAA", "invalid_signature"), ("x" * 2000, "malformed_payload"),
                          ("hello world", "malformed_payload")]:
        assert_problem(redeem(api, world.maternity.terminal_key, payload), 400, code)
    assert session.scalar(select(func.count()).select_from(Redemption)) == 0


def test_a_multi_use_coupon_redeems_as_often_as_allowed(api, world):
    offer = make_offer(api, world.maternity, uses_per_coupon=3)
    coupon = issue(api, world, offer)
    for _ in range(3):
        assert redeem(api, world.maternity.terminal_key, coupon["payload"]).status_code == 201
    assert_problem(redeem(api, world.maternity.terminal_key, coupon["payload"]), 409, "coupon_exhausted")


def test_a_pack_part_is_redeemed_at_its_own_owner(api, world):
    toys = api.register("乐乐玩具屋", categories=["toys"])
    partner_up(api, world.stroller, toys)
    toy_offer = make_offer(api, toys, min_spend=0, allow_free_order=True)
    pack = api.post("/api/v1/packs", world.stroller.key,
                    json={"offer_ids": [world.offer["id"], toy_offer["id"]]}).get_json()
    at_toys = redeem(api, toys.terminal_key, pack["landing_url"], amount=10000)
    assert at_toys.status_code == 201 and at_toys.get_json()["offer_id"] == toy_offer["id"]
    at_maternity = redeem(api, world.maternity.terminal_key, pack["payload"])
    assert at_maternity.status_code == 201 and at_maternity.get_json()["offer_id"] == world.offer["id"]
    assert_problem(redeem(api, world.outsider.key, pack["payload"], store_id=world.outsider.store_id),
                   403, "not_accepted_here")


def reverse(api, key, rid, amount, idem=None):
    return api.post(f"/api/v1/redemptions/{rid}/reversals", key, json={"refund_amount": amount, "reason": "退货"},
                    headers={"Idempotency-Key": idem or str(uuid.uuid4())})


def test_full_refund_claws_back_the_commission_and_restores_the_use(api, world, session):
    coupon = issue(api, world)
    rid = redeem(api, world.maternity.terminal_key, coupon["payload"]).get_json()["id"]
    r = reverse(api, world.maternity.terminal_key, rid, 22000)
    assert r.status_code == 201
    assert r.get_json()["commission_clawback"] == 1100 and r.get_json()["use_restored"] is True
    assert api.get(f"/api/v1/coupons/{coupon['code']}", world.stroller.key).get_json()["uses_left"] == 1
    assert_problem(reverse(api, world.maternity.terminal_key, rid, 1), 409, "already_reversed")
    assert check_ledger(session) == []
    total = session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.merchant_id == world.stroller.id))
    assert total == 0


def test_partial_refunds_claw_back_pro_rata_and_never_exceed_what_was_paid(api, world, session):
    coupon = issue(api, world)
    rid = redeem(api, world.maternity.terminal_key, coupon["payload"]).get_json()["id"]  # paid 22000, commission 1100
    first = reverse(api, world.maternity.terminal_key, rid, 7000).get_json()
    assert first["commission_clawback"] == 350 and first["use_restored"] is False
    assert_problem(reverse(api, world.maternity.terminal_key, rid, 15001), 422, "refund_exceeds_paid")
    last = reverse(api, world.maternity.terminal_key, rid, 15000).get_json()
    assert last["commission_clawback"] == 750
    body = api.get(f"/api/v1/redemptions/{rid}", world.maternity.key).get_json()
    assert body["status"] == "reversed" and body["commission"]["clawed_back"] == 1100
    assert check_ledger(session) == []


def test_reversal_is_idempotent_too(api, world, session):
    coupon = issue(api, world)
    rid = redeem(api, world.maternity.terminal_key, coupon["payload"]).get_json()["id"]
    a = reverse(api, world.maternity.terminal_key, rid, 1000, idem="refund-1")
    b = reverse(api, world.maternity.terminal_key, rid, 1000, idem="refund-1")
    assert a.get_json() == b.get_json()
    assert api.get(f"/api/v1/redemptions/{rid}", world.maternity.key).get_json()["refunded_amount"] == 1000


def test_nobody_else_reverses_a_redemption(api, world):
    coupon = issue(api, world)
    rid = redeem(api, world.maternity.terminal_key, coupon["payload"]).get_json()["id"]
    assert_problem(reverse(api, world.outsider.key, rid, 100), 404)
    assert_problem(reverse(api, world.stroller.key, rid, 100), 404)
    assert_problem(reverse(api, world.stroller.terminal_key, rid, 100), 404)
    assert_problem(reverse(api, world.maternity.terminal_key, 999999, 100), 404)


def test_each_side_sees_its_own_view(api, world):
    coupon = issue(api, world)
    redeem(api, world.maternity.terminal_key, coupon["payload"], order_ref="POS-42")
    owner = api.get("/api/v1/redemptions?role=owner", world.maternity.key).get_json()["items"]
    assert owner[0]["order_ref"] == "POS-42"
    distributor = api.get("/api/v1/redemptions?role=distributor", world.stroller.key).get_json()["items"]
    assert distributor[0]["commission"]["amount"] == 1100 and "order_ref" not in distributor[0]
    assert "store_id" not in distributor[0]
    assert api.get("/api/v1/redemptions?role=owner", world.stroller.key).get_json()["items"] == []
    assert api.get("/api/v1/redemptions?role=distributor", world.outsider.key).get_json()["items"] == []
    assert_problem(api.get("/api/v1/redemptions", world.maternity.terminal_key), 403)


def test_check_ledger_command(app, api, world):
    coupon = issue(api, world)
    redeem(api, world.maternity.terminal_key, coupon["payload"])
    result = app.test_cli_runner().invoke(args=["exchange", "check-ledger"])
    assert result.exit_code == 0 and "ledger ok" in result.output


def test_ledger_rows_cannot_be_changed(api, world, session):
    from sqlalchemy import update
    from sqlalchemy.exc import DBAPIError

    coupon = issue(api, world)
    redeem(api, world.maternity.terminal_key, coupon["payload"])
    with pytest.raises(DBAPIError), session.begin_nested():
        session.execute(update(LedgerEntry).values(amount=1))
    with pytest.raises(DBAPIError), session.begin_nested():
        session.execute(LedgerEntry.__table__.delete())


def test_a_co_funded_offer_records_the_distributors_share(api, world, session):
    offer = make_offer(api, world.maternity, distributor_share_bps=5000)  # the stroller shop pays half
    coupon = issue(api, world, offer)
    body = redeem(api, world.maternity.terminal_key, coupon["payload"]).get_json()
    assert body["cofunding"] == {"amount": 1500, "returned": 0, "payer_id": world.stroller.id,
                                 "payee_id": world.maternity.id}
    net = session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.merchant_id == world.stroller.id))
    assert net == 1100 - 1500
    reversal = reverse(api, world.maternity.terminal_key, body["id"], 11000).get_json()
    assert reversal["commission_clawback"] == 550 and reversal["cofunding_returned"] == 750
    assert check_ledger(session) == []


def test_an_offer_can_keep_used_coupons_used_after_a_refund(api, world):
    offer = make_offer(api, world.maternity, restore_use_on_refund="never")
    coupon = issue(api, world, offer)
    rid = redeem(api, world.maternity.terminal_key, coupon["payload"]).get_json()["id"]
    assert reverse(api, world.maternity.terminal_key, rid, 22000).get_json()["use_restored"] is False
    assert api.get(f"/api/v1/coupons/{coupon['code']}", world.stroller.key).get_json()["uses_left"] == 0


def test_commission_uses_the_terms_in_force_and_the_monthly_cap(api, world):
    pid = api.get("/api/v1/partnerships", world.stroller.key).get_json()["items"][0]["id"]
    api.post(f"/api/v1/partnerships/{pid}/terms", world.maternity.key,
             json={"commission": {"type": "fixed", "amount": 800}, "currency": "CNY", "monthly_cap": 1000})
    api.post(f"/api/v1/partnerships/{pid}/terms/2/accept", world.stroller.key)
    first = redeem(api, world.maternity.terminal_key, issue(api, world)["payload"]).get_json()
    assert first["commission"]["amount"] == 800
    assert_problem(redeem(api, world.maternity.terminal_key, issue(api, world)["payload"]), 422,
                   "commission_cap_reached")


def test_problem_titles_match_their_status(api, world):
    coupon = issue(api, world)
    body = assert_problem(redeem(api, world.stroller.terminal_key, coupon["payload"]), 403, "not_accepted_here")
    assert body["title"] == "Forbidden"
    redeem(api, world.maternity.terminal_key, coupon["payload"])
    body = assert_problem(redeem(api, world.maternity.terminal_key, coupon["payload"]), 409, "coupon_exhausted")
    assert body["title"] == "Conflict"


def test_a_key_is_new_again_once_its_retention_has_passed(api, world, session):
    from datetime import timedelta

    from exchange import clock

    first, second = issue(api, world), issue(api, world)
    assert redeem(api, world.maternity.terminal_key, first["payload"], idem="till-1-day-1").status_code == 201
    assert_problem(redeem(api, world.maternity.terminal_key, second["payload"], idem="till-1-day-1"), 422,
                   "idempotency_conflict")
    clock.advance(timedelta(hours=49))
    again = redeem(api, world.maternity.terminal_key, second["payload"], idem="till-1-day-1")
    assert again.status_code == 201 and again.get_json()["coupon_code"] == second["code"]
    assert session.scalar(select(func.count()).select_from(Redemption)) == 2


def test_the_distributor_sees_one_redemption_in_its_own_view(api, world):
    """Found by the schemathesis run: this was a 500 (the distributor's view dumped twice)."""
    coupon = issue(api, world)
    done = redeem(api, world.maternity.terminal_key, coupon["payload"]).get_json()
    r = api.get(f"/api/v1/redemptions/{done['id']}", world.stroller.key)
    assert r.status_code == 200, r.get_data(as_text=True)
    view = r.get_json()
    assert view["id"] == done["id"] and view["commission"]["amount"] == done["commission"]["amount"]
    assert "order_amount" not in view and "store_id" not in view


def test_both_views_of_one_redemption_are_documented(api):
    schema = api.get("/openapi.json").get_json()["paths"]["/api/v1/redemptions/{redemption_id}"]["get"]
    views = schema["responses"]["200"]["content"]["application/json"]["schema"]["oneOf"]
    assert {v["$ref"].rsplit("/", 1)[1] for v in views} == {"Redemption", "DistributorRedemption"}


def test_only_an_offer_with_a_budget_counts_its_spending(api, world, session):
    from exchange.offers.models import Offer

    budgeted = make_offer(api, world.maternity, budget=100000, min_spend=0, allow_free_order=True)
    for offer in (budgeted, world.offer):
        coupon = issue(api, world, offer)
        assert redeem(api, world.maternity.terminal_key, coupon["payload"]).status_code == 201
    mine = {o["id"]: o for o in api.get("/api/v1/offers?role=owner", world.maternity.key).get_json()["items"]}
    assert mine[budgeted["id"]]["budget_spent"] == 3000
    # Without a budget nothing is counted against one, and the offer's row is never written by a
    # redemption (its tills do not queue on it).
    assert mine[world.offer["id"]]["budget"] is None and mine[world.offer["id"]]["budget_spent"] is None
    assert session.get(Offer, world.offer["id"]).budget_spent == 0


def test_a_write_that_fails_after_the_use_is_taken_leaves_nothing_and_the_retry_succeeds(
        api, world, session, monkeypatch):
    """On PostgreSQL the ledger entries, audit event and stored response travel together
    (`prepared.pipelined`), so a failure among them surfaces only at the response's insert: the
    whole redemption must still roll back, the use included."""
    from exchange import audit
    from exchange.coupons.models import Coupon
    from exchange.db.idempotency import IdempotencyRecord
    from exchange.ledger.models import LedgerTransaction

    coupon = issue(api, world)
    real_record = audit.record
    monkeypatch.setattr(audit, "record", lambda s, **kw: real_record(s, **{**kw, "actor": None}))  # NOT NULL
    failed = redeem(api, world.maternity.terminal_key, coupon["payload"], idem="till-1-broken")
    assert_problem(failed, 500, "internal_error")
    counts = [session.scalar(select(func.count()).select_from(model))
              for model in (Redemption, LedgerTransaction, LedgerEntry, IdempotencyRecord)]
    assert counts == [0, 0, 0, 0]
    assert session.scalars(select(Coupon.uses_left)).all() == [1]  # the one coupon keeps its use
    monkeypatch.setattr(audit, "record", real_record)
    retried = redeem(api, world.maternity.terminal_key, coupon["payload"], idem="till-1-broken")
    assert retried.status_code == 201, retried.get_json()
    assert check_ledger(session) == []
