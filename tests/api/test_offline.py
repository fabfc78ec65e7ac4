"""Offline tills (issue 17), server side: the catalog a paired till caches, the store's risk
limits, `offline_at` on a synced redemption, and a coupon spent twice while tills were offline."""

import uuid
from datetime import datetime, timedelta

from exchange import clock
from exchange.events.relay import relay
from tests.helpers import assert_problem, at

LIMITS = "/api/v1/stores/{}/risk-limits"


def _coupons(api, world, count=1):
    r = api.post(f"/api/v1/offers/{world.offer['id']}/coupons", world.stroller.key, json={"count": count})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["items"]


def _sync(api, key, coupon, offline_at, amount=25000, idempotency_key=None, order_ref="OFF-1"):
    return api.post("/api/v1/redemptions", key, headers={"Idempotency-Key": idempotency_key or str(uuid.uuid4())},
                    json={"payload": coupon["payload"], "order_amount": amount, "order_ref": order_ref,
                          "offline_at": offline_at.isoformat()})


def test_a_paired_till_gets_its_stores_catalog_stamped_with_the_exchanges_time(api, world):
    a, b = _coupons(api, world, 2)
    body = api.get("/api/v1/till/catalog", world.maternity.terminal_key).get_json()
    assert abs(datetime.fromisoformat(body["generated_at"]) - clock.now()) < timedelta(seconds=5)
    assert body["store_id"] == world.maternity.store_id and body["merchant_id"] == world.maternity.id
    assert body["jwks_url"] == "/.well-known/jwks.json"
    [offer] = body["offers"]
    assert offer["id"] == world.offer["id"] and offer["status"] == "active"
    assert offer["discount"] == world.offer["discount"] and offer["min_spend"] == world.offer["min_spend"]
    assert [p["merchant_id"] for p in body["partnerships"]] == [world.stroller.id]
    ids = [i for group in body["coupons"] for lo, hi in group["ids"] for i in range(lo, hi + 1)]
    redeemed = api.post("/api/v1/redemptions", world.maternity.terminal_key, headers={
        "Idempotency-Key": str(uuid.uuid4())}, json={"payload": a["payload"], "order_amount": 25000}).get_json()
    assert len(ids) == 2
    after = api.get("/api/v1/till/catalog", world.maternity.terminal_key).get_json()
    left = [i for group in after["coupons"] for lo, hi in group["ids"] for i in range(lo, hi + 1)]
    # A used coupon leaves the catalog: offline, the till refuses it too.
    assert len(left) == 1 and redeemed["coupon_code"] == a["code"]
    assert body["limits"] == {**body["limits"], "max_offline_redemptions_per_day": 20,
                              "max_catalog_age_hours": 24, "is_default": True}
    del b


def test_the_catalog_is_for_tills_only(api, world):
    assert_problem(api.get("/api/v1/till/catalog", world.maternity.key), 403)
    assert_problem(api.get("/api/v1/till/catalog"), 401)


def test_a_merchant_sets_reads_and_resets_its_stores_risk_limits(api, world):
    url = LIMITS.format(world.maternity.store_id)
    assert api.get(url, world.maternity.key).get_json()["is_default"] is True
    r = api.call("PUT", url, world.maternity.key, json={"max_offline_redemptions_per_day": 2,
                                                          "max_offline_discount_per_day": 5000})
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {**r.get_json(), "max_offline_redemptions_per_day": 2,
                            "max_offline_discount_per_day": 5000, "max_catalog_age_hours": 24, "is_default": False}
    r = api.call("PUT", url, world.maternity.key, json={"max_catalog_age_hours": 6})
    assert r.get_json()["max_offline_redemptions_per_day"] == 2 and r.get_json()["max_catalog_age_hours"] == 6
    catalog = api.get("/api/v1/till/catalog", world.maternity.terminal_key).get_json()
    assert catalog["limits"]["max_catalog_age_hours"] == 6
    assert api.delete(url, world.maternity.key).status_code == 204
    assert api.get(url, world.maternity.key).get_json()["max_catalog_age_hours"] == 24


def test_risk_limits_are_the_stores_merchants_alone(api, world):
    url = LIMITS.format(world.maternity.store_id)
    for method in ("GET", "PUT", "DELETE"):
        body = {"max_catalog_age_hours": 2} if method == "PUT" else None
        assert_problem(api.call(method, url, world.stroller.key, json=body), 404)
        assert_problem(api.call(method, url, world.maternity.terminal_key, json=body), 403)
    assert api.get(url, world.maternity.key).get_json()["is_default"] is True


def test_bad_risk_limits_are_refused_by_field(api, world):
    url = LIMITS.format(world.maternity.store_id)
    for body, field in (({"max_offline_redemptions_per_day": -1}, "max_offline_redemptions_per_day"),
                        ({"max_offline_discount_per_day": "100"}, "max_offline_discount_per_day"),
                        ({"max_offline_discount_per_day": 10.5}, "max_offline_discount_per_day"),
                        ({"max_catalog_age_hours": 0}, "max_catalog_age_hours"),
                        ({"max_catalog_age_hours": 1000}, "max_catalog_age_hours"),
                        ({"status": "off"}, "status")):
        r = api.call("PUT", url, world.maternity.key, json=body)
        assert_problem(r, 422, "validation_failed")
        assert field in str(r.get_json()), r.get_json()


def test_an_offline_redemption_keeps_the_tills_time_and_is_booked_at_the_exchanges(api, world):
    [coupon] = _coupons(api, world)
    offline_at = clock.now() - timedelta(hours=5)
    r = _sync(api, world.maternity.terminal_key, coupon, offline_at)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["offline_at"].startswith(offline_at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert body["redeemed_at"] != body["offline_at"]
    owner = api.get(f"/api/v1/redemptions/{body['id']}", world.maternity.key).get_json()
    distributor = api.get(f"/api/v1/redemptions/{body['id']}", world.stroller.key).get_json()
    assert owner["offline_at"] == body["offline_at"] == distributor["offline_at"]
    online = api.post("/api/v1/redemptions", world.maternity.terminal_key, headers={
        "Idempotency-Key": str(uuid.uuid4())}, json={"payload": _coupons(api, world)[0]["payload"],
                                                     "order_amount": 25000}).get_json()
    assert online["offline_at"] is None


def test_an_offline_at_older_than_the_window_or_in_the_future_is_refused(api, world, app):
    [coupon] = _coupons(api, world)
    key = world.maternity.terminal_key
    too_old = clock.now() - app.config["OFFLINE_WINDOW"] - timedelta(minutes=1)
    assert_problem(_sync(api, key, coupon, too_old), 422, "offline_at_too_old")
    future = clock.now() + app.config["OFFLINE_CLOCK_SKEW"] + timedelta(minutes=1)
    assert_problem(_sync(api, key, coupon, future), 422, "offline_at_in_future")
    # Nothing was written: the coupon still redeems, within the window.
    assert _sync(api, key, coupon, clock.now() - timedelta(hours=71)).status_code == 201


def test_a_coupon_spent_twice_offline_is_refused_on_the_later_sync_as_a_double_spend(api, world):
    [coupon] = _coupons(api, world)
    second_till = api.post(f"/api/v1/stores/{world.maternity.store_id}/terminal-keys", world.maternity.key,
                           json={"label": "till 2"}).get_json()["key"]
    first = _sync(api, world.maternity.terminal_key, coupon, clock.now() - timedelta(minutes=30))
    assert first.status_code == 201
    key, when = str(uuid.uuid4()), clock.now() - timedelta(minutes=20)
    later = _sync(api, second_till, coupon, when, idempotency_key=key, order_ref="OFF-2", amount=30000)
    assert_problem(later, 409, "offline_double_spend")
    # The same sync again: the same refusal, and still one conflict.
    assert _sync(api, second_till, coupon, when, idempotency_key=key,
                 order_ref="OFF-2", amount=30000).get_json()["code"] == "offline_double_spend"
    report = api.get("/api/v1/offline-conflicts", world.maternity.key).get_json()["items"]
    assert [(c["reason"], c["code"], c["order_ref"], c["order_amount"], c["idempotency_key"]) for c in report] == \
        [("double_spend", "offline_double_spend", "OFF-2", 30000, key)]
    assert report[0]["store_id"] == world.maternity.store_id
    relay()
    events = api.get("/api/v1/events?types=offline.conflict", world.maternity.key).get_json()["items"]
    assert [e["data"]["idempotency_key"] for e in events] == [key]
    # Nobody else sees it; online, a used coupon is still the ordinary refusal.
    assert api.get("/api/v1/offline-conflicts", world.stroller.key).get_json()["items"] == []
    assert api.get("/api/v1/events?types=offline.conflict", world.stroller.key).get_json()["items"] == []
    again = api.post("/api/v1/redemptions", second_till, headers={"Idempotency-Key": str(uuid.uuid4())},
                     json={"payload": coupon["payload"], "order_amount": 25000})
    assert_problem(again, 409, "coupon_exhausted")
    assert api.get("/api/v1/offline-conflicts", world.maternity.key).get_json()["items"] == report


def test_the_stores_offline_limits_are_enforced_again_at_sync(api, world):
    api.call("PUT", LIMITS.format(world.maternity.store_id), world.maternity.key,
             json={"max_offline_redemptions_per_day": 1})
    a, b = _coupons(api, world, 2)
    when = clock.now() - timedelta(minutes=10)
    assert _sync(api, world.maternity.terminal_key, a, when).status_code == 201
    refused = _sync(api, world.maternity.terminal_key, b, when, order_ref="OFF-9")
    assert_problem(refused, 422, "offline_limit_reached")
    report = api.get("/api/v1/offline-conflicts", world.maternity.key).get_json()["items"]
    assert [(c["reason"], c["order_ref"]) for c in report] == [("limit_exceeded", "OFF-9")]
    # Online the coupon is fine: offline limits are for offline redemptions.
    assert api.post("/api/v1/redemptions", world.maternity.terminal_key, headers={
        "Idempotency-Key": str(uuid.uuid4())}, json={"payload": b["payload"], "order_amount": 25000}).status_code == 201


def test_the_conflict_report_pages_and_refuses_bad_queries(api, world):
    assert_problem(api.get("/api/v1/offline-conflicts?limit=0", world.maternity.key), 422)
    assert_problem(api.get("/api/v1/offline-conflicts?store_id=x", world.maternity.key), 422)
    assert_problem(api.get("/api/v1/offline-conflicts", world.maternity.terminal_key), 403)
    assert api.get(f"/api/v1/offline-conflicts?store_id={world.maternity.store_id}",
                   world.maternity.key).get_json() == {"items": [], "next_after": None}


def test_an_offline_redemption_from_a_closed_month_is_booked_in_the_month_it_was_accepted(api, month):
    at("2026-10-20T10:00:00+08:00")
    month.redeem(month.maternity, month.stroller)
    offer = month.offers[month.maternity.id]
    [coupon] = api.post(f"/api/v1/offers/{offer['id']}/coupons", month.stroller.key,
                        json={"count": 1}).get_json()["items"]
    at("2026-11-01T01:00:00+08:00")
    assert month.close("2026-10").status_code in (200, 201)
    october = month.statement(month.maternity, "2026-10")
    # Taken offline half an hour before October ended, synced an hour into November.
    r = _sync(api, month.maternity.terminal_key, coupon, datetime.fromisoformat("2026-10-31T23:30:00+08:00"))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert datetime.fromisoformat(body["offline_at"]) == datetime.fromisoformat("2026-10-31T23:30:00+08:00")
    assert datetime.fromisoformat(body["redeemed_at"]) >= datetime.fromisoformat("2026-11-01T01:00:00+08:00")
    assert month.statement(month.maternity, "2026-10") == october
    november = api.get("/api/v1/redemptions", month.maternity.key,
                       query_string={"from": "2026-11-01T00:00:00+08:00"}).get_json()["items"]
    assert [r["id"] for r in november] == [body["id"]]


def _refund(api, key, redemption_id, amount, offline_at=None, idempotency_key=None):
    body = {"refund_amount": amount, "reason": "退货"}
    if offline_at is not None:
        body["offline_at"] = offline_at.isoformat()
    return api.post(f"/api/v1/redemptions/{redemption_id}/reversals", key,
                    headers={"Idempotency-Key": idempotency_key or str(uuid.uuid4())}, json=body)


def test_a_refund_taken_offline_keeps_the_tills_time_and_is_booked_at_the_exchanges(api, world):
    [coupon] = _coupons(api, world)
    key = world.maternity.terminal_key
    redemption = _sync(api, key, coupon, clock.now() - timedelta(hours=2)).get_json()
    offline_at = clock.now() - timedelta(hours=1)
    r = _refund(api, key, redemption["id"], 5000, offline_at)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert datetime.fromisoformat(body["offline_at"]) == offline_at
    assert datetime.fromisoformat(body["reversed_at"]) > offline_at and body["refund_amount"] == 5000
    # The same key again (a retried sync): the same refund, once.
    kept = str(uuid.uuid4())
    again = [_refund(api, key, redemption["id"], 2000, offline_at, idempotency_key=kept) for _ in range(2)]
    assert [a.status_code for a in again] == [201, 201] and again[0].get_json() == again[1].get_json()
    day = api.get("/api/v1/till/day", key).get_json()
    [listed] = [x for x in day["refunds"] if x["id"] == body["id"]]
    assert listed["offline_at"] == body["offline_at"]
    online = _refund(api, key, redemption["id"], 1000).get_json()
    assert online["offline_at"] is None
    assert api.get(f"/api/v1/redemptions/{redemption['id']}", key).get_json()["refunded_amount"] == 8000


def test_an_offline_refunds_time_older_than_the_window_or_in_the_future_is_refused_and_nothing_written(api, world,
                                                                                                       app):
    [coupon] = _coupons(api, world)
    key = world.maternity.terminal_key
    redemption = _sync(api, key, coupon, clock.now() - timedelta(hours=1)).get_json()
    too_old = clock.now() - app.config["OFFLINE_WINDOW"] - timedelta(minutes=1)
    problem = assert_problem(_refund(api, key, redemption["id"], 5000, too_old), 422, "offline_at_too_old")
    assert "offline refund" in problem["detail"]
    future = clock.now() + app.config["OFFLINE_CLOCK_SKEW"] + timedelta(minutes=1)
    assert_problem(_refund(api, key, redemption["id"], 5000, future), 422, "offline_at_in_future")
    assert api.get(f"/api/v1/redemptions/{redemption['id']}", key).get_json()["refunded_amount"] == 0
    # Still never more than what is left to refund.
    assert_problem(_refund(api, key, redemption["id"], 22001, clock.now()), 422, "refund_exceeds_paid")
    assert _refund(api, key, redemption["id"], 22000, clock.now() - timedelta(hours=71)).status_code == 201


def test_an_offline_refund_of_a_closed_months_sale_is_booked_when_the_exchange_accepts_it(api, month):
    at("2026-10-20T10:00:00+08:00")
    offer = month.offers[month.maternity.id]
    [coupon] = api.post(f"/api/v1/offers/{offer['id']}/coupons", month.stroller.key,
                        json={"count": 1}).get_json()["items"]
    sold = _sync(api, month.maternity.terminal_key, coupon, datetime.fromisoformat("2026-10-20T09:30:00+08:00"))
    assert sold.status_code == 201, sold.get_json()
    at("2026-11-01T01:00:00+08:00")
    assert month.close("2026-10").status_code in (200, 201)
    october = month.statement(month.maternity, "2026-10")
    # Refunded offline half an hour before October ended, synced an hour into November.
    r = _refund(api, month.maternity.terminal_key, sold.get_json()["id"], 5000,
                datetime.fromisoformat("2026-10-31T23:30:00+08:00"))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert datetime.fromisoformat(body["offline_at"]) == datetime.fromisoformat("2026-10-31T23:30:00+08:00")
    assert datetime.fromisoformat(body["reversed_at"]) >= datetime.fromisoformat("2026-11-01T01:00:00+08:00")
    assert month.statement(month.maternity, "2026-10") == october
