"""Limits over many coupons hold under real concurrency (SPEC §4.8): gunicorn with 4 workers,
40 tills at once, redeeming or issuing *different* coupons — which lock no common coupon row.

Found by probing: on PostgreSQL 40 concurrent redemptions of a partnership capped at ¥30 a month
(¥10 fixed commission) committed up to ¥130, because the month's total was read, not written.
"""

import json
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.conftest import start_server, stop_server
from tests.e2e.world import _ok, register

pytestmark = pytest.mark.e2e

TILLS = 40
ROUNDS = 3


@pytest.fixture(scope="module")
def server(base_db_url, tmp_path_factory):
    from tests.databases import fresh_database
    from tests.e2e.conftest import assert_ledger_whole

    tmp_path = tmp_path_factory.mktemp("limits")
    with fresh_database(base_db_url, tmp_path) as url:
        proc, server = start_server(url, tmp_path, workers=4, EXCHANGE_REDEMPTION_RATE_LIMIT="off",
                                    EXCHANGE_REDEMPTION_IP_RATE_LIMIT="off",
                                    EXCHANGE_REGISTRATION_RATE_LIMIT="off")
        try:
            yield server
        finally:
            stop_server(proc)
        assert_ledger_whole(url)


def _at_once(n, attempt):
    """`attempt(i)` for i in 0..n-1, all released at the same instant; their (status, code)."""
    gate = threading.Barrier(n)

    def one(i):
        gate.wait()
        status, _, body = attempt(i)
        return status, json.loads(body).get("code") if status >= 400 else None

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def _pair(server, *, commission, monthly_cap=None):
    stroller = register(server, "贝贝童车馆", ["stroller"])
    maternity = register(server, "暖暖孕婴坊", ["maternity", "baby_care"])
    p = _ok(server.request("POST", "/api/v1/partnerships", {
        "partner_id": maternity["id"], "commission": commission, "currency": "CNY",
        "monthly_cap": monthly_cap}, stroller["key"]))
    _ok(server.request("POST", f"/api/v1/partnerships/{p['id']}/accept", None, maternity["key"]), 200)
    maternity["terminal_key"] = _ok(server.request(
        "POST", f"/api/v1/stores/{maternity['store_id']}/terminal-keys", {}, maternity["key"]))["key"]
    return stroller, maternity


def _offer(server, owner, **limits):
    return _ok(server.request("POST", "/api/v1/offers", {
        "title": "满200减30 孕婴好物", "discount": {"type": "amount", "amount": 3000}, "min_spend": 20000,
        "currency": "CNY", "valid_from": "2020-01-01T00:00:00+08:00",
        "valid_until": "2099-01-01T00:00:00+08:00", **limits}, owner["key"]))


def _issue(server, distributor, offer, count, **body):
    return _ok(server.request("POST", f"/api/v1/offers/{offer['id']}/coupons", {"count": count, **body},
                              distributor["key"]))["items"]


def _redeem_each(server, till_key, payloads):
    return _at_once(len(payloads), lambda i: server.request(
        "POST", "/api/v1/redemptions", {"payload": payloads[i], "order_amount": 25000}, till_key,
        headers={"Idempotency-Key": str(uuid.uuid4())}))


def _owner_redemptions(server, owner):
    return _ok(server.request("GET", "/api/v1/redemptions?role=owner&limit=500", key=owner["key"]), 200)["items"]


def test_monthly_commission_cap_is_never_exceeded(server):
    for _ in range(ROUNDS):
        stroller, maternity = _pair(server, commission={"type": "fixed", "amount": 1000}, monthly_cap=3000)
        coupons = _issue(server, stroller, _offer(server, maternity), TILLS)
        tally = Counter(_redeem_each(server, maternity["terminal_key"], [c["payload"] for c in coupons]))
        assert tally == {(201, None): 3, (422, "commission_cap_reached"): TILLS - 3}, tally
        made = _owner_redemptions(server, maternity)
        assert sum(r["commission"]["amount"] for r in made) == 3000


def test_offer_budget_is_never_exceeded(server):
    for _ in range(ROUNDS):
        stroller, maternity = _pair(server, commission={"type": "percent", "rate_bps": 500})
        offer = _offer(server, maternity, budget=9000)  # three ¥30 discounts
        coupons = _issue(server, stroller, offer, TILLS)
        tally = Counter(_redeem_each(server, maternity["terminal_key"], [c["payload"] for c in coupons]))
        assert tally == {(201, None): 3, (422, "budget_exhausted"): TILLS - 3}, tally
        assert sum(r["discount"] for r in _owner_redemptions(server, maternity)) == 9000


def test_one_customers_limit_is_never_exceeded_across_coupons(server):
    for _ in range(ROUNDS):
        stroller, maternity = _pair(server, commission={"type": "percent", "rate_bps": 500})
        # Two coupons of many uses each, for one customer, who may use the offer three times.
        offer = _offer(server, maternity, uses_per_coupon=TILLS, per_customer_limit=3)
        coupons = _issue(server, stroller, offer, 2, customer_ref="tel:13800000000")
        payloads = [coupons[i % 2]["payload"] for i in range(TILLS)]
        tally = Counter(_redeem_each(server, maternity["terminal_key"], payloads))
        assert tally == {(201, None): 3, (422, "customer_limit_reached"): TILLS - 3}, tally


def test_max_coupons_and_per_customer_holdings_are_never_exceeded_by_concurrent_issuers(server):
    for _ in range(ROUNDS):
        stroller, maternity = _pair(server, commission={"type": "percent", "rate_bps": 500})
        capped = _offer(server, maternity, max_coupons=5)
        path = f"/api/v1/offers/{capped['id']}/coupons"
        tally = Counter(_at_once(TILLS, lambda i, path=path, stroller=stroller: server.request(
            "POST", path, {"count": 1}, stroller["key"])))
        assert tally == {(201, None): 5, (409, "max_coupons_reached"): TILLS - 5}, tally

        limited = _offer(server, maternity, per_customer_limit=2)
        path = f"/api/v1/offers/{limited['id']}/coupons"
        tally = Counter(_at_once(TILLS, lambda i, path=path, stroller=stroller: server.request(
            "POST", path, {"count": 1, "customer_ref": "tel:13900000000"}, stroller["key"])))
        assert tally == {(201, None): 2, (409, "customer_limit_reached"): TILLS - 2}, tally
