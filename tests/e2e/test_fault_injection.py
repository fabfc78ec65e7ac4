"""Nothing lost, nothing doubled when processes die (SPEC §4.1–4.3).

Tills redeem through gunicorn (3 workers), each attempt with its own Idempotency-Key. Mid-load
one worker is killed with SIGKILL; later the whole server is. After a restart every attempt is
retried with the same key and body, and the database is checked: every 201 a till saw is one
redemption with balanced ledger entries, a retry of it returns the very same body, no coupon is
used more often than allowed, and `check-ledger` passes.
"""

import http.client
import json
import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from exchange.db.engine import make_engine
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.world import issue, stroller_and_maternity

pytestmark = pytest.mark.e2e

TILLS = 6
ATTEMPTS_PER_TILL = 30
USES = 2
NO_LIMITS = {"EXCHANGE_REDEMPTION_RATE_LIMIT": "off", "EXCHANGE_REDEMPTION_IP_RATE_LIMIT": "off"}


class Attempt:
    def __init__(self, till: int, n: int, payload: str):
        self.idem = f"till-{till}-attempt-{n}"
        self.body = {"payload": payload, "order_amount": 25000, "order_ref": self.idem}
        self.status: int | None = None  # None: no answer (connection refused or cut)
        self.answer: bytes | None = None


def _send(server, key, attempt):
    try:
        status, _, body = server.request("POST", "/api/v1/redemptions", attempt.body, key,
                                         headers={"Idempotency-Key": attempt.idem})
    except (OSError, http.client.HTTPException):  # refused, reset, or cut off mid-answer
        return None, None
    return status, body


def _workers(master_pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master_pid)], capture_output=True, text=True)
    return [int(pid) for pid in out.stdout.split()]


def _load(server, key, coupons, done: list):
    """Each till works through its attempts; several tills share each coupon."""
    attempts = [[Attempt(t, n, coupons[(t * 7 + n) % len(coupons)]["payload"])
                 for n in range(ATTEMPTS_PER_TILL)] for t in range(TILLS)]

    def till(own):
        for attempt in own:
            attempt.status, attempt.answer = _send(server, key, attempt)
            done.append(attempt)

    pool = ThreadPoolExecutor(TILLS)
    futures = [pool.submit(till, own) for own in attempts]
    return pool, futures, [a for own in attempts for a in own]


def _wait_for(done: list, count: int, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while len(done) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(done) >= count, f"load stalled at {len(done)} of {count}"


def test_kill_a_worker_then_the_server_and_nothing_is_lost_or_doubled(fresh_db_url, tmp_path):
    proc, server = start_server(fresh_db_url, tmp_path, workers=3, EXCHANGE_THREADS="2", **NO_LIMITS)
    killed_worker = None
    try:
        stroller, maternity, _ = stroller_and_maternity(server)
        status, _, body = server.request("POST", "/api/v1/offers", {
            "title": "两次券", "discount": {"type": "amount", "amount": 1000}, "currency": "CNY",
            "valid_from": "2020-01-01T00:00:00+08:00", "valid_until": "2099-01-01T00:00:00+08:00",
            "uses_per_coupon": USES, "allow_free_order": True}, maternity["key"])
        assert status == 201
        coupons = issue(server, stroller, json.loads(body), count=40)
        status, _, body = server.request("POST", f"/api/v1/stores/{maternity['store_id']}/terminal-keys",
                                         {}, maternity["key"])
        till_key = json.loads(body)["key"]

        done: list = []
        total = TILLS * ATTEMPTS_PER_TILL
        pool, futures, attempts = _load(server, till_key, coupons, done)
        _wait_for(done, total // 4)
        killed_worker = _workers(proc.pid)[0]
        os.kill(killed_worker, signal.SIGKILL)  # one worker, mid-request most likely
        _wait_for(done, total // 2)
    finally:
        stop_server(proc, signal.SIGKILL)  # the master and every worker
    for future in futures:
        future.result(timeout=120)
    pool.shutdown()
    assert killed_worker is not None
    assert not [a for a in attempts if a.status is not None and a.status >= 500], \
        [(a.status, a.answer) for a in attempts if a.status and a.status >= 500]
    seen = {a.idem: a for a in attempts if a.status == 201}
    assert seen, "no redemption succeeded before the kill"
    assert any(a.status is None for a in attempts), "the server was killed after the load ended"

    # The tills come back at once: an Idempotency-Key is stored in the same transaction as its
    # effect, so a killed request left nothing behind, and every attempt must now resolve for good.
    proc, server = start_server(fresh_db_url, tmp_path, workers=3, EXCHANGE_THREADS="2", **NO_LIMITS)
    try:
        for attempt in attempts:
            status, answer = _send(server, till_key, attempt)
            assert status is not None and status < 500, (attempt.idem, status, answer)
            if attempt.idem in seen:
                # The same key after the restart: the original result, byte for byte.
                assert (status, json.loads(answer)) == (201, json.loads(attempt.answer)), attempt.idem
            elif status == 201:
                seen[attempt.idem] = attempt
                attempt.answer = answer
            else:
                assert json.loads(answer)["code"] == "coupon_exhausted", (attempt.idem, status, answer)
        result = server.flask("exchange", "check-ledger")
        assert result.returncode == 0, result.stderr + result.stdout
    finally:
        stop_server(proc)

    _check_database(fresh_db_url, {json.loads(a.answer)["id"] for a in seen.values()}, len(coupons))


def _check_database(url, redemption_ids, coupon_count):
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id FROM redemptions")).scalars().all()
            # Every 201 is exactly one row, and no row exists that no till was told about.
            assert sorted(rows) == sorted(redemption_ids)
            per_coupon = conn.execute(text(
                "SELECT coupon_id, COUNT(*) FROM redemptions GROUP BY coupon_id")).all()
            assert all(n <= USES for _, n in per_coupon), per_coupon
            assert len(per_coupon) <= coupon_count
            unbalanced = conn.execute(text(
                "SELECT t.redemption_id, SUM(e.amount) FROM ledger_transactions t "
                "JOIN ledger_entries e ON e.transaction_id = t.id "
                "WHERE t.redemption_id IS NOT NULL GROUP BY t.id, t.redemption_id "
                "HAVING SUM(e.amount) <> 0")).all()
            assert not unbalanced, unbalanced
            posted = conn.execute(text(
                "SELECT redemption_id, COUNT(*) FROM ledger_transactions WHERE redemption_id IS NOT NULL "
                "GROUP BY redemption_id")).all()
            assert {rid for rid, _ in posted} == set(redemption_ids)
            assert all(n == 1 for _, n in posted), posted
    finally:
        engine.dispose()
