"""A batch survives the death of the whole server: exactly as many coupons as asked; and so does
its print run: the parts drawn before stay, each missing one is drawn by the next server."""

import io
import json
import signal
import time
import zipfile

import pytest

from exchange.db.engine import make_engine
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


PRINTED = 9_600  # 8 parts of 1,200 coupons: the first server is killed long before its last


def test_kill_9_mid_print_run_then_restart_draws_only_the_missing_parts(fresh_db_url, tmp_path):
    lease = {"EXCHANGE_BATCH_LEASE_SECONDS": "3"}
    proc, first = start_server(fresh_db_url, tmp_path, **lease)
    try:
        stroller, _, offer = stroller_and_maternity(first, max_coupons=PRINTED)
        status, _, body = first.request("POST", f"/api/v1/offers/{offer['id']}/coupon-batches",
                                        {"count": PRINTED}, stroller["key"])
        batch_id = json.loads(body)["id"]
        deadline = time.monotonic() + 60
        while _batch(first, stroller, batch_id)["status"] != "done" and time.monotonic() < deadline:
            time.sleep(0.1)
        sheets = f"/api/v1/coupon-batches/{batch_id}/sheets"
        assert json.loads(first.request("GET", sheets, key=stroller["key"])[2])["status"] == "preparing"
        deadline = time.monotonic() + 120
        engine = make_engine(fresh_db_url)  # one engine: each look must be quick, or more parts are drawn
        while not _drawn_parts(engine, batch_id) and time.monotonic() < deadline:
            time.sleep(0.05)
        engine.dispose()
    finally:
        stop_server(proc, signal.SIGKILL)  # mid-print: some parts stored, others being drawn
    engine = make_engine(fresh_db_url)
    before = _drawn_parts(engine, batch_id)
    assert 0 < len(before) < 8, before

    proc, second = start_server(fresh_db_url, tmp_path, **lease)
    try:
        deadline = time.monotonic() + 300
        while (listing := json.loads(second.request("GET", sheets, key=stroller["key"])[2]))["status"] != "ready" \
                and time.monotonic() < deadline:
            time.sleep(0.5)
        assert listing["status"] == "ready" and listing["parts_ready"] == 8, listing
        status, _, body = second.request("GET", f"{sheets}.zip", key=stroller["key"])
        archive = zipfile.ZipFile(io.BytesIO(body))
        assert status == 200 and len(archive.namelist()) == 8
        assert all(archive.read(name).startswith(b"%PDF-") for name in archive.namelist())
        after = _drawn_parts(engine, batch_id)
        assert all(after[number] == drawn_at for number, drawn_at in before.items())  # not drawn again
    finally:
        stop_server(proc)
        engine.dispose()


def _drawn_parts(engine, batch_id) -> dict:
    """Each stored part's number and when it was drawn."""
    from sqlalchemy import text

    with engine.connect() as conn:
        rows = conn.execute(text("SELECT number, drawn_at FROM sheet_parts WHERE batch_id = :id AND status = 'ready'"),
                            {"id": batch_id}).all()
    return dict(rows)


def _issued_now(url, batch_id):
    from sqlalchemy import text

    from exchange.db.engine import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        issued = conn.execute(text("SELECT issued FROM coupon_batches WHERE id = :id"), {"id": batch_id}).scalar()
    engine.dispose()
    return issued
