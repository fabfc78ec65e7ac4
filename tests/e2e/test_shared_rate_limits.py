"""With Redis configured, every gunicorn worker counts against one shared limit (SPEC §6)."""

import json
import shutil
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from tests.e2e.conftest import free_port, start_server, stop_server
from tests.e2e.world import issue, stroller_and_maternity

pytestmark = pytest.mark.e2e


@pytest.fixture
def redis_url(tmp_path):
    """A redis-server of this test's own on a free loopback port (scripts/system-deps.sh installs it)."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is missing: run scripts/system-deps.sh"
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.1)
        yield url
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


def _burst(n, call):
    """`n` calls released at once from `n` threads (so several workers serve them)."""
    gate = threading.Barrier(n)

    def one(i):
        gate.wait()
        return call(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_limits_are_counted_once_across_workers(fresh_db_url, tmp_path, redis_url):
    # One thread per worker: simultaneous requests must be spread over the four workers.
    proc, server = start_server(fresh_db_url, tmp_path, workers=4, EXCHANGE_THREADS="1",
                                EXCHANGE_REDIS_URL=redis_url,
                                EXCHANGE_REGISTRATION_RATE_LIMIT="8 per hour",
                                EXCHANGE_REDEMPTION_RATE_LIMIT="5 per hour",
                                EXCHANGE_REDEMPTION_IP_RATE_LIMIT="off")
    try:
        stroller, maternity, offer = stroller_and_maternity(server)  # two registrations of eight
        body = {"name": "限流", "categories": ["tea"], "price_tier": 1, "scale": "micro", "city": "杭州"}
        statuses = _burst(16, lambda i: server.request("POST", "/api/v1/merchants", body))
        tally = Counter(status for status, _, _ in statuses)
        assert tally == {201: 6, 429: 10}, tally
        refused = next(r for r in statuses if r[0] == 429)
        assert refused[1]["Content-Type"].startswith("application/problem+json")
        assert int(refused[1]["Retry-After"]) > 0
        assert json.loads(refused[2])["code"] == "rate_limited"

        payload = issue(server, stroller, offer)[0]["payload"]
        scan = {"payload": payload, "order_amount": 25000, "store_id": maternity["store_id"]}
        verified = _burst(12, lambda i: server.request("POST", "/api/v1/redemptions/verify", scan,
                                                       maternity["key"]))
        assert Counter(status for status, _, _ in verified) == {200: 5, 429: 7}
        assert redis.Redis.from_url(redis_url).keys("LIMIT*"), "no counters in Redis"
    finally:
        stop_server(proc)


def test_failed_authentications_are_counted_once_across_workers(fresh_db_url, tmp_path, redis_url):
    """The security matrix's throttle (tests/api/test_security_matrix.py), through four workers:
    each request on a new connection, so any worker may answer it; one count in Redis."""
    proc, server = start_server(fresh_db_url, tmp_path, workers=4, EXCHANGE_THREADS="1",
                                EXCHANGE_REDIS_URL=redis_url, EXCHANGE_AUTH_FAILURE_RATE_LIMIT="10 per hour")
    try:
        answers = [server.request("GET", "/api/v1/merchants/me", key=f"mk_{i + 1}_{'x' * 43}") for i in range(40)]
        assert [status for status, _, _ in answers] == [401] * 10 + [429] * 30
        assert json.loads(answers[-1][2])["code"] == "authentication_throttled"
        assert int(answers[-1][1]["Retry-After"]) > 0
        assert redis.Redis.from_url(redis_url).keys("LIMITS*auth-failures*"), "the count is not in Redis"
    finally:
        stop_server(proc)
