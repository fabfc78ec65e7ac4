"""Exactly once under real concurrency: gunicorn with 4 workers, many simultaneous tills."""

import json
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.conftest import start_server, stop_server
from tests.e2e.world import issue, stroller_and_maternity

pytestmark = pytest.mark.e2e


@pytest.fixture
def four_workers(fresh_db_url, tmp_path):
    proc, server = start_server(fresh_db_url, tmp_path, workers=4)
    try:
        yield server
    finally:
        stop_server(proc)


def _terminal_key(server, merchant):
    status, _, body = server.request("POST", f"/api/v1/stores/{merchant['store_id']}/terminal-keys", {},
                                     merchant["key"])
    assert status == 201
    return json.loads(body)["key"]


def _storm(server, key, payload, n, idem=None):
    """`n` redemptions of one coupon released at the same instant; (status, code) of each."""
    gate = threading.Barrier(n)

    def one(_):
        gate.wait()
        status, _, body = server.request(
            "POST", "/api/v1/redemptions", {"payload": payload, "order_amount": 25000}, key,
            headers={"Idempotency-Key": idem or str(uuid.uuid4())})
        return status, json.loads(body).get("code") if status >= 400 else None

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def _check_ledger(server):
    result = server.flask("exchange", "check-ledger")
    assert result.returncode == 0, result.stderr + result.stdout


def _redemptions(server, maternity):
    status, _, body = server.request("GET", "/api/v1/redemptions?role=owner&limit=500", key=maternity["key"])
    return json.loads(body)["items"]


@pytest.mark.parametrize("uses", [1, 5])
def test_100_concurrent_attempts_redeem_exactly_the_uses(four_workers, uses):
    server = four_workers
    stroller, maternity, _ = stroller_and_maternity(server)
    status, _, body = server.request("POST", "/api/v1/offers", {
        "title": f"{uses} 次券", "discount": {"type": "amount", "amount": 1000}, "currency": "CNY",
        "valid_from": "2020-01-01T00:00:00+08:00", "valid_until": "2099-01-01T00:00:00+08:00",
        "uses_per_coupon": uses, "allow_free_order": True}, maternity["key"])
    offer = json.loads(body)
    coupon = issue(server, stroller, offer)[0]
    results = _storm(server, _terminal_key(server, maternity), coupon["payload"], 100)
    tally = Counter(results)
    assert tally[(201, None)] == uses, tally
    assert tally[(409, "coupon_exhausted")] == 100 - uses, tally
    assert not [r for r in results if r[0] >= 500]
    assert len(_redemptions(server, maternity)) == uses
    _check_ledger(server)


def test_50_concurrent_retries_of_one_key_make_one_redemption(four_workers):
    server = four_workers
    stroller, maternity, offer = stroller_and_maternity(server)
    coupon = issue(server, stroller, offer)[0]
    results = _storm(server, _terminal_key(server, maternity), coupon["payload"], 50, idem="till-1-order-77")
    tally = Counter(results)
    assert tally[(201, None)] >= 1, tally
    assert set(tally) <= {(201, None), (409, "idempotency_in_progress")}, tally
    assert len(_redemptions(server, maternity)) == 1
    _check_ledger(server)
