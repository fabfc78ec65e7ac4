"""A delivery survives the death of the whole server mid-attempt: after a restart the receiver
gets the event again, with the same webhook-id and a valid signature (at least once, never lost)."""

import json
import signal
import time
import uuid

import pytest

from tests.e2e.conftest import start_server, stop_server
from tests.e2e.world import _ok, issue, stroller_and_maternity
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.e2e
SETTINGS = {"EXCHANGE_WEBHOOK_ALLOW_PRIVATE": "1", "EXCHANGE_WEBHOOK_LEASE_SECONDS": "2",
            "EXCHANGE_WEBHOOK_TIMEOUT_SECONDS": "10"}


def test_kill_9_mid_delivery_then_restart_delivers_with_the_same_webhook_id(fresh_db_url, tmp_path):
    with Receiver() as receiver:
        # The first attempt hangs (the server is killed while it waits); the next is answered.
        receiver.answers = [(200, "too late", 5)]
        proc, first = start_server(fresh_db_url, tmp_path, **SETTINGS)
        try:
            stroller, maternity, offer = stroller_and_maternity(first)
            endpoint = _ok(first.request("POST", "/api/v1/webhook-endpoints",
                                         {"url": receiver.url, "event_types": ["coupon.redeemed"]}, maternity["key"]))
            coupon = issue(first, stroller, offer)[0]
            started = time.monotonic()
            redemption = _ok(first.request("POST", "/api/v1/redemptions", {
                "payload": coupon["payload"], "order_amount": 25000, "store_id": maternity["store_id"],
                "order_ref": "POS-9"}, maternity["key"], headers={"Idempotency-Key": str(uuid.uuid4())}))
            assert time.monotonic() - started < 2  # the till never waits for a receiver
            [in_flight] = receiver.wait_for(1, 30)
        finally:
            stop_server(proc, signal.SIGKILL)  # the master and every worker, mid-attempt
        assert in_flight.verified(endpoint["secret"])["data"]["id"] == redemption["id"]

        proc, second = start_server(fresh_db_url, tmp_path, **SETTINGS)
        try:
            second.request("GET", "/healthz")  # the first request starts this server's workers
            got = receiver.wait_for(2, 30)
            assert len(got) >= 2, "not delivered again after the restart"
            assert {r.webhook_id for r in got} == {in_flight.webhook_id}
            payload = got[1].verified(endpoint["secret"])
            assert payload["type"] == "coupon.redeemed" and payload["data"]["order_ref"] == "POS-9"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                status, _, body = second.request("GET", f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries",
                                                 key=maternity["key"])
                [log] = json.loads(body)["items"]
                if log["status"] == "succeeded":
                    break
                time.sleep(0.2)
            assert (log["status"], log["attempts"], log["event_id"]) == ("succeeded", 2, in_flight.webhook_id)
        finally:
            stop_server(proc)


def _delivery_processes(master_pid: int) -> list[int]:
    from pathlib import Path

    found = []
    for task in Path(f"/proc/{master_pid}/task").glob("*/children"):
        for pid in task.read_text().split():
            if b"deliver" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(int(pid))
    return found


def _gone(pid: int) -> bool:
    from pathlib import Path

    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except FileNotFoundError:
        return True


def _wait(predicate, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_the_server_delivers_from_one_process_of_its_own_at_a_lower_priority(fresh_db_url, tmp_path):
    """One delivery process per server, niced below the request workers; restarted when it dies,
    and gone with the master even when the master is killed with SIGKILL."""
    import os

    proc, server = start_server(fresh_db_url, tmp_path, **SETTINGS)
    try:
        [delivery] = _wait(lambda: _delivery_processes(proc.pid))
        assert os.getpriority(os.PRIO_PROCESS, delivery) - os.getpriority(os.PRIO_PROCESS, proc.pid) == 10
        os.kill(delivery, signal.SIGKILL)
        [again] = _wait(lambda: [p for p in _delivery_processes(proc.pid) if p != delivery])
        os.kill(proc.pid, signal.SIGKILL)  # the master alone
        _wait(lambda: _gone(again))
    finally:
        stop_server(proc, signal.SIGKILL)
