"""Metrics through real gunicorn with two workers: each worker writes its own values
(prometheus-client's multi-process mode), every scrape — whichever worker answers it, or the
separate metrics address — adds them all up, and stale files of an earlier run are not counted."""

import json
import time
import urllib.request
import uuid

import pytest
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import free_port, start_server, stop_server
from tests.e2e.probes import burst
from tests.e2e.world import issue, stroller_and_maternity

pytestmark = pytest.mark.e2e
OPERATOR = "op_dev_only_operator_key"
ROUND = 20


def redeemed(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "exchange_redemptions_total" and sample.labels == {"outcome": "redeemed"}:
                return sample.value
    return 0.0


def workers_that_redeemed(directory) -> set[str]:
    """The pids whose own file counts a redemption (each worker writes `counter_<pid>.db`)."""
    pids = set()
    for path in directory.glob("counter_*.db"):
        for key, value, *_ in MmapedDict.read_all_values_from_file(str(path)):
            if json.loads(key)[0] == "exchange_redemptions" and value > 0:
                pids.add(path.stem.rsplit("_", 1)[1])
    return pids


def test_every_workers_redemptions_are_counted_in_every_scrape(fresh_db_url, tmp_path):
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_1.db").write_bytes(b"left over by an earlier server")  # must be removed
    bind = f"127.0.0.1:{free_port()}"
    proc, server = start_server(fresh_db_url, tmp_path, workers=2, PROMETHEUS_MULTIPROC_DIR=str(directory),
                                EXCHANGE_METRICS_BIND=bind)
    try:
        stroller, maternity, offer = stroller_and_maternity(server)
        payloads = [c["payload"] for c in issue(server, stroller, offer, count=200)]
        status, headers, body = server.request("GET", "/metrics", key=OPERATOR)
        assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
        before = redeemed(body.decode())
        assert server.request("GET", "/metrics")[0] == 401
        assert server.request("GET", "/metrics", key=maternity["key"])[0] == 403

        def redeem(i):
            return server.request("POST", "/api/v1/redemptions", {
                "payload": payloads[i], "order_amount": 25000, "store_id": maternity["store_id"]},
                maternity["key"], headers={"Idempotency-Key": str(uuid.uuid4())})

        # Bursts until both workers have served some (the second may still be starting: the
        # server counts as up once one answers), each writing files of its own ...
        done = 0
        for _ in range(10):
            answers = burst(ROUND, lambda i, start=done: redeem(start + i))
            assert all(status == 201 for status, _, _ in answers), [a[2][:200] for a in answers if a[0] != 201]
            done += ROUND
            pids = workers_that_redeemed(directory)
            if len(pids) >= 2:
                break
            time.sleep(0.5)
        assert len(pids) >= 2, sorted(directory.iterdir())
        assert not (directory / "counter_1.db").exists()
        # ... and every scrape, whichever worker answers, counts all of them.
        scrapes = [redeemed(server.request("GET", "/metrics", key=OPERATOR)[2].decode()) for _ in range(6)]
        assert scrapes == [before + done] * 6, scrapes
        # The separate address (gunicorn's master) needs no key and says the same.
        with urllib.request.urlopen(f"http://{bind}/metrics", timeout=10) as response:
            assert redeemed(response.read().decode()) == before + done
        ready = json.loads(server.request("GET", "/readyz")[2])
        assert ready["status"] == "ready", ready
        # The CLI, run with the server's environment, leaves no values among the workers'.
        files = set(directory.iterdir())
        prom = tmp_path / "exchange_ledger.prom"
        result = server.flask("exchange", "check-ledger", "--metrics-file", str(prom))
        assert result.returncode == 0, result.stderr
        assert set(directory.iterdir()) == files
        assert "exchange_ledger_check_problems 0" in prom.read_text()
    finally:
        stop_server(proc)


def test_without_a_directory_each_server_gets_one_of_its_own_and_removes_it(fresh_db_url, tmp_path):
    temp = tmp_path / "tmp"  # the server's TMPDIR: whatever it makes there is its own
    temp.mkdir()
    proc, server = start_server(fresh_db_url, tmp_path, workers=2, TMPDIR=str(temp))
    try:
        made = list(temp.glob("exchange-metrics-*"))
        assert len(made) == 1, made
        assert list(made[0].glob("counter_*.db"))
        assert server.request("GET", "/metrics", key=OPERATOR)[0] == 200
    finally:
        stop_server(proc)
    assert not made[0].exists()
