"""A backup taken while tills redeem, restored into a fresh server: every redemption a till was
told about before the backup began is there, with its amounts, its coupon used up and a
balanced ledger; nothing is there that no till was told about; and the tills never stalled.
SQLite: `flask exchange backup` (online backup API). PostgreSQL is backed up with pg_dump
(docs/operations.md)."""

import json
import shutil
import subprocess
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.databases import fresh_database
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.world import issue, stroller_and_maternity

pytestmark = pytest.mark.e2e
TILLS = 4
UNLIMITED = {"EXCHANGE_REDEMPTION_RATE_LIMIT": "off", "EXCHANGE_REDEMPTION_IP_RATE_LIMIT": "off"}


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def take_backup(server, url: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess, Path]:
    """The documented command: `flask exchange backup` on SQLite, `pg_dump` on PostgreSQL."""
    target = tmp_path / "backups" / ("exchange.sqlite3" if url.startswith("sqlite") else "exchange.dump")
    target.parent.mkdir()
    if url.startswith("sqlite"):
        return server.flask("exchange", "backup", str(target)), target
    return subprocess.run(["pg_dump", "--format=custom", f"--file={target}", _libpq(url)],
                          check=False, capture_output=True, text=True, timeout=120), target


@contextmanager
def restored_database(target: Path, base_db_url, tmp_path: Path):
    if base_db_url is None:
        restored = tmp_path / "restored" / "exchange.sqlite3"
        restored.parent.mkdir()
        shutil.copyfile(target, restored)
        yield f"sqlite:///{restored}"
        return
    with fresh_database(base_db_url, tmp_path, migrate=False) as url:
        result = subprocess.run(["pg_restore", "--no-owner", f"--dbname={_libpq(url)}", str(target)],
                                check=False, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        yield url


def test_a_backup_under_load_restores_every_redemption_the_tills_saw(base_db_url, tmp_path):
    with fresh_database(base_db_url, tmp_path) as url:
        proc, server = start_server(url, tmp_path, workers=2, **UNLIMITED)
        try:
            stroller, maternity, offer = stroller_and_maternity(server)
            payloads = [c["payload"] for c in issue(server, stroller, offer, count=600)]
            seen, failures, lock = [], [], threading.Lock()
            stop = threading.Event()

            def till(n):
                for payload in payloads[n::TILLS]:
                    if stop.is_set():
                        return
                    status, _, body = server.request("POST", "/api/v1/redemptions", {
                        "payload": payload, "order_amount": 25000, "store_id": maternity["store_id"]},
                        maternity["key"], headers={"Idempotency-Key": str(uuid.uuid4())})
                    with lock:
                        if status == 201:
                            seen.append((time.monotonic(), json.loads(body), payload))
                        else:
                            failures.append((status, body[:300]))

            threads = [threading.Thread(target=till, args=(n,)) for n in range(TILLS)]
            for t in threads:
                t.start()
            while len(seen) < 60 and any(t.is_alive() for t in threads):
                time.sleep(0.05)
            began = time.monotonic()
            result, target = take_backup(server, url, tmp_path)
            ended = time.monotonic()
            during = sum(1 for at, _, _ in seen if began <= at <= ended)
            time.sleep(0.3)
            stop.set()
            for t in threads:
                t.join()
            assert result.returncode == 0, result.stderr + result.stdout
            assert failures == []  # the tills never failed while the backup ran
            before = [(r, p) for at, r, p in seen if at < began]
            assert len(before) >= 60 and len(seen) > len(before)
            print(f"redemptions: {len(before)} before the backup, {during} during it ({ended - began:.2f} s), "
                  f"{len(seen)} in all")
        finally:
            stop_server(proc)

    # Restored into a fresh server of its own: the copy as its database, the same signing keys.
    with restored_database(target, base_db_url, tmp_path) as restored_url:
        restored_proc, again = start_server(restored_url, tmp_path, workers=2)
        try:
            ready = json.loads(again.request("GET", "/readyz")[2])
            assert ready["status"] == "ready", ready
            for redemption, _payload in before:
                status, _, body = again.request("GET", f"/api/v1/redemptions/{redemption['id']}", key=maternity["key"])
                assert status == 200, body
                found = json.loads(body)
                assert {k: found[k] for k in ("paid_amount", "discount", "commission")} == \
                       {k: redemption[k] for k in ("paid_amount", "discount", "commission")}
            _, payload = before[0]
            status, _, body = again.request("POST", "/api/v1/redemptions", {
                "payload": payload, "order_amount": 25000, "store_id": maternity["store_id"]},
                maternity["key"], headers={"Idempotency-Key": str(uuid.uuid4())})
            assert status == 409 and json.loads(body)["code"] == "coupon_exhausted"
            # Nothing in the copy that no till was told about.
            told = {r["id"] for _, r, _ in seen}
            listed, after = set(), 0
            while True:
                status, _, body = again.request("GET", f"/api/v1/redemptions?role=owner&limit=500&after={after}",
                                                key=maternity["key"])
                page = json.loads(body)
                listed |= {r["id"] for r in page["items"]}
                if page["next_after"] is None:
                    break
                after = page["next_after"]
            assert {r["id"] for r, _ in before} <= listed <= told
            check = again.flask("exchange", "check-ledger")
            assert check.returncode == 0, check.stderr + check.stdout
        finally:
            stop_server(restored_proc)
