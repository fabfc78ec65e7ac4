"""Limits over many coupons (SPEC §4.8): a partnership's monthly commission cap and a customer's
uses of an offer are counters the redemption writes, freed again by refunds. (The same limits
under 40 concurrent tills: tests/e2e/test_aggregate_limits.py.)"""

from datetime import datetime

from sqlalchemy import func, select

from exchange import clock
from exchange.redemptions.models import PartnershipMonth, Redemption
from tests.api.test_redemptions import issue, redeem
from tests.helpers import World, assert_problem, make_offer, partner_up


def _new_terms(api, world, **terms):
    pid = api.get("/api/v1/partnerships", world.stroller.key).get_json()["items"][0]["id"]
    r = api.post(f"/api/v1/partnerships/{pid}/terms", world.maternity.key, json={"currency": "CNY", **terms})
    assert r.status_code == 201, r.get_json()
    version = r.get_json()["version"]
    assert api.post(f"/api/v1/partnerships/{pid}/terms/{version}/accept", world.stroller.key).status_code == 200


def _refund(api, world, redemption_id, amount):
    import uuid

    r = api.post(f"/api/v1/redemptions/{redemption_id}/reversals", world.maternity.terminal_key,
                 headers={"Idempotency-Key": str(uuid.uuid4())}, json={"refund_amount": amount, "reason": "退货"})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_a_refund_frees_its_clawback_from_the_months_cap(api, world):
    _new_terms(api, world, commission={"type": "fixed", "amount": 800}, monthly_cap=1000)
    till = world.maternity.terminal_key
    first = redeem(api, till, issue(api, world)["payload"]).get_json()
    assert_problem(redeem(api, till, issue(api, world)["payload"]), 422, "commission_cap_reached")
    _refund(api, world, first["id"], 22000)
    assert redeem(api, till, issue(api, world)["payload"]).status_code == 201


def test_a_cap_agreed_mid_month_counts_the_months_earlier_commission(api, world, session):
    till = world.maternity.terminal_key
    for _ in range(2):  # 5% of ¥220: ¥11 each, before any cap
        assert redeem(api, till, issue(api, world)["payload"]).get_json()["commission"]["amount"] == 1100
    _new_terms(api, world, commission={"type": "fixed", "amount": 800}, monthly_cap=3000)
    assert redeem(api, till, issue(api, world)["payload"]).status_code == 201  # 2200 + 800 = 3000
    assert_problem(redeem(api, till, issue(api, world)["payload"]), 422, "commission_cap_reached")
    assert session.scalar(select(PartnershipMonth.commission)) == 3000


def test_verify_says_the_cap_is_reached_and_writes_nothing(api, world, session):
    _new_terms(api, world, commission={"type": "fixed", "amount": 800}, monthly_cap=1000)
    redeem(api, world.maternity.terminal_key, issue(api, world)["payload"])
    answer = api.post("/api/v1/redemptions/verify", world.maternity.terminal_key,
                      json={"payload": issue(api, world)["payload"], "order_amount": 25000}).get_json()
    assert answer["valid"] is False and answer["code"] == "commission_cap_reached"
    assert session.scalar(select(func.count()).select_from(Redemption)) == 1


def test_a_customers_limit_counts_uses_across_coupons_and_full_refunds_free_one(api, world):
    offer = make_offer(api, world.maternity, uses_per_coupon=3, per_customer_limit=2)
    till = world.maternity.terminal_key
    first, second = (issue(api, world, offer, customer_ref="tel:13800000000") for _ in range(2))
    one = redeem(api, till, first["payload"]).get_json()
    two = redeem(api, till, second["payload"]).get_json()
    assert_problem(redeem(api, till, first["payload"]), 422, "customer_limit_reached")
    _refund(api, world, one["id"], 1000)  # partly refunded: still a use
    assert_problem(redeem(api, till, second["payload"]), 422, "customer_limit_reached")
    _refund(api, world, two["id"], two["paid_amount"])
    assert redeem(api, till, second["payload"]).status_code == 201
    # Another customer is not held back by this one.
    other = issue(api, world, offer, customer_ref="tel:13900000000")
    assert redeem(api, till, other["payload"]).status_code == 201


def test_a_sale_at_the_last_instant_of_a_month_is_that_months_everywhere(api, session, monkeypatch):
    """Found by probing: the redemption and its ledger posting read the clock separately, so a
    sale at 23:59:59.9 on 31 October was the report's October and the statement's November.
    Here every reading of the clock moves it on by a millisecond, from just before midnight."""
    from exchange.ledger.models import LedgerTransaction
    from exchange.periods import Period

    clock.set_now(datetime.fromisoformat("2026-10-05T10:00:00+08:00"))
    stroller = api.register("贝贝童车馆", categories=["stroller"])
    maternity = api.register("暖暖孕婴坊", categories=["maternity", "baby_care"])
    partner_up(api, stroller, maternity)
    world = World(stroller, maternity, None, make_offer(api, maternity, valid_until="2027-06-30T00:00:00+08:00"))
    _new_terms(api, world, commission={"type": "fixed", "amount": 500}, monthly_cap=100000)
    coupons = [issue(api, world) for _ in range(12)]
    midnight = datetime.fromisoformat("2026-11-01T00:00:00+08:00")
    for n, ms_before in enumerate(range(-5, 7)):  # from 5 ms after midnight to 6 ms before
        ticks = iter(range(10**6))
        start = midnight.timestamp() - ms_before / 1000

        def real_now(start=start, ticks=ticks):
            return datetime.fromtimestamp(start + next(ticks) / 1000, clock.UTC)

        monkeypatch.setattr(clock, "_real_now", real_now)
        clock.set_now(None)
        assert redeem(api, maternity.terminal_key, coupons[n]["payload"]).status_code == 201
    monkeypatch.undo()
    rows = session.execute(select(Redemption.redeemed_at, LedgerTransaction.posted_at)
                           .join(LedgerTransaction, LedgerTransaction.redemption_id == Redemption.id)).all()
    assert len(rows) == 12 and all(redeemed == posted for redeemed, posted in rows)
    month_of = [str(Period.containing(redeemed, "Asia/Shanghai")) for redeemed, _ in rows]
    assert set(month_of) == {"2026-10", "2026-11"}  # the boundary really was crossed
    by_month = {m: 500 * month_of.count(m) for m in set(month_of)}
    # The cap counted each sale in the month it is dated in.
    assert dict(session.execute(select(PartnershipMonth.period, PartnershipMonth.commission)).all()) == by_month
    # The month's close, its statement and the partnership report hold exactly the sales dated in it.
    clock.set_now(datetime.fromisoformat("2026-11-02T09:00:00+08:00"))
    assert api.post("/api/v1/settlements", api.client.application.config["OPERATOR_KEY"],
                    json={"period": "2026-10"}).status_code == 201
    assert api.get("/api/v1/settlements/2026-10", stroller.key).get_json()["net_position"] == by_month["2026-10"]
    report = api.get("/api/v1/reports/partnerships?period=2026-10", stroller.key).get_json()
    assert report["partners"][0]["you_sent"]["sales"][0]["commission"] == by_month["2026-10"]
