"""A batch survives the death of the whole server: exactly as many coupons as asked."""

import json
import signal
import time

import pytest

from tests.e2e.conftest import start_server, stop_server
from tests.e2e.world import stroller_and_maternity

pytestmark = pytest.mark.e2e
COUNT = 20_000


def _batch(server, stroller, batch_id):
    return json.loads(server.request("GET", f"/api/v1/coupon-batches/{batch_id}", key=stroller["key"])[2])


def test_kill_9_mid_batch_then_restart_issues_exactly_the_count(fresh_db_url, tmp_path):
    lease = {"EXCHANGE_BATCH_LEASE_SECONDS": "3"}
    proc, first = start_server(fresh_db_url, tmp_path, **lease)
    try:
        stroller, _, offer = stroller_and_maternity(first, max_coupons=COUNT)
        status, _, body = first.request("POST", f"/api/v1/offers/{offer['id']}/coupon-batches",
                                        {"count": COUNT}, stroller["key"])
        assert status == 202
        batch_id = json.loads(body)["id"]
        deadline = time.monotonic() + 60
        while _batch(first, stroller, batch_id)["issued"] == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop_server(proc, signal.SIGKILL)  # the master and every worker, mid-chunk
    killed_at = _issued_now(fresh_db_url, batch_id)
    assert 0 < killed_at < COUNT, killed_at

    proc, second = start_server(fresh_db_url, tmp_path, **lease)
    try:
        second.request("GET", "/healthz")  # the first request starts this server's worker
        deadline = time.monotonic() + 180
        while (batch := _batch(second, stroller, batch_id))["status"] != "done" and time.monotonic() < deadline:
            time.sleep(0.5)
        assert batch["status"] == "done" and batch["issued"] == COUNT, batch
        status, _, csv = second.request("GET", f"/api/v1/coupon-batches/{batch_id}/export.csv",
                                        key=stroller["key"])
        codes = [line.split(",")[0] for line in csv.decode().strip().splitlines()[1:]]
        assert len(codes) == len(set(codes)) == COUNT
    finally:
        stop_server(proc)


def _issued_now(url, batch_id):
    from sqlalchemy import text

    from exchange.db.engine import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        issued = conn.execute(text("SELECT issued FROM coupon_batches WHERE id = :id"), {"id": batch_id}).scalar()
    engine.dispose()
    return issued
