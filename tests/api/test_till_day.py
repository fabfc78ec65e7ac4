"""Today at this store: a till sees its own store's redemptions and refunds of the day, with
totals, and nothing of another store's or another merchant's."""

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from exchange import clock
from tests.helpers import assert_problem

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _coupons(api, world, count):
    return api.post(f"/api/v1/offers/{world.offer['id']}/coupons", world.stroller.key,
                    json={"count": count}).get_json()["items"]


def _redeem(api, key, coupon, amount, **extra):
    r = api.post("/api/v1/redemptions", key, json={"payload": coupon["payload"], "order_amount": amount, **extra},
                 headers={"Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _refund(api, key, redemption, amount, reason="退货"):
    r = api.post(f"/api/v1/redemptions/{redemption['id']}/reversals", key,
                 json={"refund_amount": amount, "reason": reason}, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_the_day_lists_this_stores_redemptions_and_refunds_with_totals(api, world):
    till = world.maternity.terminal_key
    a, b, c, yesterdays = _coupons(api, world, 4)
    old = _redeem(api, till, yesterdays, 30000)
    # Noon the next day in Hangzhou: "today" is unambiguous, and the first sale was yesterday.
    tomorrow = datetime.now(SHANGHAI) + timedelta(days=1)
    clock.set_now(tomorrow.replace(hour=12, minute=0).astimezone(clock.UTC))
    first = _redeem(api, till, a, 25000)
    second = _redeem(api, till, b, 40000)
    # Another store of the same merchant: not this till's day.
    other_store = api.post("/api/v1/stores", world.maternity.key,
                           json={"name": "暖暖孕婴坊 二店", "address": "文二路 2 号", "city": "杭州"}).get_json()
    api.post("/api/v1/redemptions", world.maternity.key, json={
        "payload": c["payload"], "order_amount": 50000, "store_id": other_store["id"]},
        headers={"Idempotency-Key": str(uuid.uuid4())})
    refund = _refund(api, till, first, 5000, "部分退货")
    _refund(api, till, old, 27000)  # yesterday's sale, refunded today: today's refund
    day = api.get("/api/v1/till/day", till)
    assert day.status_code == 200, day.get_json()
    body = day.get_json()
    assert body["date"] == clock.now().astimezone(SHANGHAI).date().isoformat()
    assert body["timezone"] == "Asia/Shanghai" and body["store_id"] == world.maternity.store_id
    assert [r["id"] for r in body["redemptions"]] == [second["id"], first["id"]]
    assert body["redemptions"][1]["refunded_amount"] == 5000
    assert body["redemptions"][1]["status"] == "partially_reversed"
    assert [(r["id"], r["refund_amount"], r["redemption_id"]) for r in body["refunds"]][1] == \
        (refund["id"], 5000, first["id"])
    assert body["refunds"][0]["redemption_id"] == old["id"] and body["refunds"][0]["use_restored"] is True
    assert body["refunds"][1]["reason"] == "部分退货" and body["refunds"][1]["coupon_code"] == first["coupon_code"]
    assert body["totals"] == {"redemptions": 2, "order_amount": 65000, "discount": 6000, "paid_amount": 59000,
                              "refunds": 2, "refunded_amount": 32000, "net_amount": 27000}
    assert body["complete"] is True


def test_a_day_starts_at_midnight_in_the_shops_timezone(api, world):
    just_before = datetime.now(SHANGHAI).replace(hour=23, minute=59, second=0, microsecond=0)
    clock.set_now(just_before.astimezone(clock.UTC))
    _redeem(api, world.maternity.terminal_key, _coupons(api, world, 1)[0], 25000)
    assert api.get("/api/v1/till/day", world.maternity.terminal_key).get_json()["totals"]["redemptions"] == 1
    clock.advance(timedelta(minutes=2))  # 00:01 the next morning in Hangzhou (16:01 UTC)
    fresh = api.get("/api/v1/till/day", world.maternity.terminal_key).get_json()
    assert fresh["totals"]["redemptions"] == 0 and fresh["redemptions"] == []
    assert fresh["date"] == (just_before + timedelta(days=1)).date().isoformat()


def test_only_a_till_asks_for_its_day(api, world):
    assert_problem(api.get("/api/v1/till/day", world.maternity.key), 403, "wrong_key_kind")
    assert_problem(api.get("/api/v1/till/day"), 401, "missing_key")
    # Another merchant's till sees an empty day, not the maternity store's sales.
    _redeem(api, world.maternity.terminal_key, _coupons(api, world, 1)[0], 25000)
    theirs = api.get("/api/v1/till/day", world.outsider.terminal_key).get_json()
    assert theirs["totals"]["redemptions"] == 0 and theirs["store_id"] == world.outsider.store_id
