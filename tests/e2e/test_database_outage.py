"""PostgreSQL stopped for a few seconds under load: every answer stays problem+json (503 with
Retry-After while it is away, never gunicorn's HTML 500), and the service heals by itself when
it is back (SPEC §4.12, issue 12 item 7).

The shared PostgreSQL on 127.0.0.1:5432 serves other people's tests, so this one stops and
starts a throw-away cluster of its own. On SQLite the same outage is a read-only episode:
tests/e2e/test_sqlite_read_only.py.
"""

import json
import threading
import time
import uuid

import pytest
from alembic import command

from exchange.cli import alembic_config
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.helper_servers import ThrowawayPostgres
from tests.e2e.world import issue, stroller_and_maternity

pytestmark = pytest.mark.e2e


@pytest.fixture
def postgres():
    cluster = ThrowawayPostgres().start()
    try:
        command.upgrade(alembic_config(cluster.url), "head")
        yield cluster
    finally:
        cluster.remove()


class Load:
    """Tills verifying and redeeming, merchants reading, a monitor polling health: until stopped,
    each answer is kept as (status, content type, problem code or None, Retry-After)."""

    def __init__(self, server, maternity, payloads):
        self.server, self.maternity = server, maternity
        self.scanned, self.payloads = payloads[0], payloads[1:]
        self.answers, self.redeems, self.errors, self.running = [], {}, [], True
        self._lock = threading.Lock()

    def _calls(self, n):
        m = self.maternity
        if n % 4 == 0:
            return "GET", "/api/v1/merchants/me", None, m["key"], {}
        if n % 4 == 1:
            return "POST", "/api/v1/redemptions/verify", {"payload": self.scanned, "order_amount": 25000,
                                                         "store_id": m["store_id"]}, m["key"], {}
        if n % 4 == 2:
            return "GET", "/healthz", None, None, {}
        payload = self.payloads.pop() if self.payloads else None
        if payload is None:
            return "GET", "/api/v1/categories", None, None, {}
        key = str(uuid.uuid4())
        with self._lock:
            self.redeems[key] = payload
        return "POST", "/api/v1/redemptions", {"payload": payload, "order_amount": 25000,
                                               "store_id": m["store_id"]}, m["key"], {"Idempotency-Key": key}

    def run(self, thread: int):
        try:
            self._run(thread)
        except Exception as error:  # the test thread must hear of it
            self.errors.append(repr(error))

    def _run(self, thread: int):
        n = thread
        while self.running:
            method, path, body, key, headers = self._calls(n)
            try:
                status, got, data = self.server.request(method, path, body, key, headers)
            except OSError as error:  # a refused connection would be the server's death
                status, got, data = 0, {}, str(error).encode()
            code = None
            if status >= 400:
                code = json.loads(data)["code"] if got.get("Content-Type", "").startswith(
                    "application/problem+json") else data[:200]
            with self._lock:
                self.answers.append((status, got.get("Content-Type", ""), code, got.get("Retry-After"),
                                     headers.get("Idempotency-Key")))
            n += 4

    def __enter__(self):
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(4)]
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        for t in self.threads:
            t.join(timeout=60)


def _wait_healthy(server, seconds=60):
    deadline = time.monotonic() + seconds
    while server.request("GET", "/healthz")[0] != 200:
        assert time.monotonic() < deadline, "the service did not heal"
        time.sleep(0.2)


def test_postgresql_stopped_under_load_answers_503_problems_and_heals(postgres, tmp_path):
    # Limits high enough for the load, but on: a 503 of a rate-limited route must still say the
    # outage's Retry-After, not the limit's.
    proc, server = start_server(postgres.url, tmp_path, workers=2,
                                EXCHANGE_REDEMPTION_RATE_LIMIT="100000 per minute",
                                EXCHANGE_REDEMPTION_IP_RATE_LIMIT="100000 per minute")
    try:
        stroller, maternity, offer = stroller_and_maternity(server)
        payloads = [c["payload"] for c in issue(server, stroller, offer, count=400)]
        with Load(server, maternity, payloads) as load:
            time.sleep(1.0)
            before = len(load.answers)
            postgres.stop("fast")  # sessions in flight are terminated, new connections refused
            time.sleep(3.0)
            during = load.answers[before:]
            postgres.start()
            _wait_healthy(server)
            time.sleep(1.0)
        answers = load.answers
        assert not load.errors, load.errors

        # The outage really happened, and was answered as one.
        unavailable = [a for a in during if a[0] == 503]
        assert len(unavailable) >= 10, during[-20:]
        # Every answer was a success or a problem document; every failure a 503 with Retry-After.
        for status, content_type, code, retry_after, _ in answers:
            assert status in (200, 201, 503), (status, content_type, code)
            if status == 503:
                assert content_type == "application/problem+json" and code == "database_unavailable", code
                assert retry_after == "5", retry_after  # the outage's wait, not verify's rate limit's
        # Healed by itself: the last answers of every kind are successes again.
        assert {status for status, *_ in answers[-12:]} <= {200, 201}, answers[-12:]
        for path, key in (("/api/v1/merchants/me", maternity["key"]), ("/healthz", None)):
            assert server.request("GET", path, key=key)[0] == 200

        # A redemption refused with 503 had no effect: retried with its key after the outage, it
        # is made once; and the ledger holds exactly the redemptions that were answered 201.
        refused = {a[4] for a in answers if a[4] and a[0] == 503}
        for idem in refused:
            status, _, body = server.request("POST", "/api/v1/redemptions", {
                "payload": load.redeems[idem], "order_amount": 25000, "store_id": maternity["store_id"]},
                maternity["key"], headers={"Idempotency-Key": idem})
            assert status == 201, body
        made = {a[4] for a in answers if a[4] and a[0] == 201} | refused
        _, _, body = server.request("GET", "/api/v1/redemptions?role=owner&limit=500", key=maternity["key"])
        assert len(json.loads(body)["items"]) == len(made)
        result = server.flask("exchange", "check-ledger")
        assert result.returncode == 0, result.stderr + result.stdout
        log = server.log_path.read_text()
        assert "Error handling request" not in log  # nothing escaped the app to gunicorn
        assert "database unreachable; requests answer 503 until it is back" in log
    finally:
        stop_server(proc)
