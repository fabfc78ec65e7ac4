"""Redis down: tills keep redeeming, limits count per process, health says so; Redis back: limits
are shared again and health recovers, with no restart (SPEC §4.12, issue 12 item 3)."""

import json
import time

import pytest

from tests.e2e.conftest import start_server, stop_server
from tests.e2e.helper_servers import RedisServer
from tests.e2e.probes import KeepAlive, assert_problem, burst, logged, statuses
from tests.e2e.world import issue, stroller_and_maternity

pytestmark = pytest.mark.e2e
LIMIT, WORKERS = 5, 4
WENT_AWAY = "rate-limit store unreachable: counting limits in this process until it answers"
CAME_BACK = "rate-limit store reachable again: limits are shared again"


def _till(server, maternity) -> str:
    status, _, body = server.request("POST", f"/api/v1/stores/{maternity['store_id']}/terminal-keys", {},
                                     maternity["key"])
    assert status == 201, body
    return json.loads(body)["key"]


def test_tills_keep_redeeming_through_a_redis_outage_and_limits_are_shared_again_after(fresh_db_url, tmp_path):
    store = RedisServer(tmp_path).start()
    proc, server = start_server(fresh_db_url, tmp_path, workers=WORKERS, EXCHANGE_THREADS="1",
                                EXCHANGE_REDIS_URL=store.url,
                                EXCHANGE_REDEMPTION_RATE_LIMIT=f"{LIMIT} per hour",
                                EXCHANGE_REDEMPTION_IP_RATE_LIMIT="off",
                                EXCHANGE_REGISTRATION_RATE_LIMIT="100 per hour")
    try:
        stroller, maternity, offer = stroller_and_maternity(server)
        tills = [_till(server, maternity) for _ in range(6)]
        coupons = [c["payload"] for c in issue(server, stroller, offer, count=4)]

        def verify(till):
            return lambda _i: server.request("POST", "/api/v1/redemptions/verify", {
                "payload": coupons[0], "order_amount": 25000}, till)

        assert statuses(burst(12, verify(tills[0]))) == {200: LIMIT, 429: 12 - LIMIT}  # shared
        assert json.loads(server.request("GET", "/healthz")[2]) == {
            "status": "ok", "database": "writable", "rate_limits": "shared"}

        store.stop()
        # One connection is one worker: the limit still holds within the process...
        pinned = KeepAlive(server)
        scan = {"payload": coupons[0], "order_amount": 25000}
        answers = [pinned.request("POST", "/api/v1/redemptions/verify", scan, tills[1]) for _ in range(LIMIT + 1)]
        assert [status for status, _, _ in answers] == [200] * LIMIT + [429]
        assert_problem(answers[-1], 429, "rate_limited")
        assert int(answers[-1][1]["Retry-After"]) > 0
        # ...and that worker says where its limits are counted now.
        status, _, body = pinned.request("GET", "/healthz")
        assert (status, json.loads(body)) == (200, {"status": "degraded", "database": "writable",
                                                    "rate_limits": "fallback"})
        # Tills keep redeeming and merchants keep registering: nothing answers 500.
        for i, payload in enumerate(coupons[1:]):
            status, _, body = pinned.request("POST", "/api/v1/redemptions", {
                "payload": payload, "order_amount": 25000, "order_ref": f"R-{i}"}, tills[2],
                headers={"Idempotency-Key": f"outage-{i}"})
            assert status == 201, body
        status, _, body = server.request("POST", "/api/v1/merchants", {
            "name": "新店", "categories": ["tea"], "price_tier": 1, "scale": "micro", "city": "杭州"})
        assert status == 201, body
        pinned.close()
        # Across workers each counts on its own: at least the limit, at most the limit per worker.
        spread = statuses(burst(16, verify(tills[3])))
        assert set(spread) <= {200, 429} and LIMIT <= spread[200] <= LIMIT * WORKERS, spread
        for _ in range(3):
            burst(8, verify(tills[4]))
        # Many requests failed to reach Redis; each process said so once.
        went_away = logged(server, WENT_AWAY)
        assert went_away and set(went_away.values()) == {1}, went_away

        store.start()  # the same port, empty
        # Every worker that fell back finds Redis again on a later request (Flask-Limiter pings
        # it 1, 2, 4 … 32 s apart), without a restart.
        deadline = time.monotonic() + 90
        while not set(logged(server, CAME_BACK)) >= set(logged(server, WENT_AWAY)):
            assert time.monotonic() < deadline, (logged(server, WENT_AWAY), logged(server, CAME_BACK))
            burst(8, verify(tills[4]))
            time.sleep(0.5)
        assert set(logged(server, WENT_AWAY).values()) == {1}, "fell back again after coming back"
        healths = [json.loads(server.request("GET", "/healthz")[2]) for _ in range(12)]
        assert all(h == {"status": "ok", "database": "writable", "rate_limits": "shared"} for h in healths), healths
        # Shared again: a burst with a fresh key lets through exactly the limit, counted in Redis.
        assert statuses(burst(12, verify(tills[5]))) == {200: LIMIT, 429: 12 - LIMIT}
        assert store.keys("LIMITS*"), "no counters in Redis"
        result = server.flask("exchange", "check-ledger")
        assert result.returncode == 0, result.stderr + result.stdout
    finally:
        stop_server(proc)
        store.stop()
