"""Metrics through real gunicorn with two workers: each worker writes its own values
(prometheus-client's multi-process mode), every scrape — whichever worker answers it, or the
separate metrics address — adds them all up, and stale files of an earlier run are not counted."""

import json
import urllib.request
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import free_port, start_server, stop_server
from tests.e2e.probes import burst
from tests.e2e.world import issue, stroller_and_maternity

pytestmark = pytest.mark.e2e
OPERATOR = "op_dev_only_operator_key"


def redeemed(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "exchange_redemptions_total" and sample.labels == {"outcome": "redeemed"}:
                return sample.value
    return 0.0


def test_every_workers_redemptions_are_counted_in_every_scrape(fresh_db_url, tmp_path):
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_1.db").write_bytes(b"left over by an earlier server")  # must be removed
    bind = f"127.0.0.1:{free_port()}"
    proc, server = start_server(fresh_db_url, tmp_path, workers=2, PROMETHEUS_MULTIPROC_DIR=str(directory),
                                EXCHANGE_METRICS_BIND=bind)
    try:
        stroller, maternity, offer = stroller_and_maternity(server)
        payloads = [c["payload"] for c in issue(server, stroller, offer, count=40)]
        status, headers, body = server.request("GET", "/metrics", key=OPERATOR)
        assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
        before = redeemed(body.decode())
        assert server.request("GET", "/metrics")[0] == 401
        assert server.request("GET", "/metrics", key=maternity["key"])[0] == 403

        def redeem(i):
            return server.request("POST", "/api/v1/redemptions", {
                "payload": payloads[i], "order_amount": 25000, "store_id": maternity["store_id"]},
                maternity["key"], headers={"Idempotency-Key": str(uuid.uuid4())})

        answers = burst(len(payloads), redeem)
        assert all(status == 201 for status, _, _ in answers), [a[2][:200] for a in answers if a[0] != 201]
        # Both workers served some of them and wrote their own files ...
        pids = {path.stem.rsplit("_", 1)[1] for path in directory.glob("counter_*.db")}
        assert len(pids) >= 2, sorted(directory.iterdir())
        assert not (directory / "counter_1.db").exists()
        # ... and every scrape, whichever worker answers, counts all of them.
        scrapes = [redeemed(server.request("GET", "/metrics", key=OPERATOR)[2].decode()) for _ in range(6)]
        assert scrapes == [before + len(payloads)] * 6, scrapes
        # The separate address (gunicorn's master) needs no key and says the same.
        with urllib.request.urlopen(f"http://{bind}/metrics", timeout=10) as response:
            assert redeemed(response.read().decode()) == before + len(payloads)
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
