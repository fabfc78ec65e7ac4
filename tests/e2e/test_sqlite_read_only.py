"""SQLite: the database files briefly unwritable (as with a disk fault), then writable again.
Writes answer 503 problem+json while it lasts, reads go on, the health answer says the
database cannot be written, and every worker writes again afterwards without a restart (SPEC
§4.12, issue 12 item 8). A connection SQLite opened during the episode is read-only for its
whole life: the fix is that the workers drop such connections.

The episode must really stop the server's writes, which chmod alone does not: root ignores file
modes, and open file descriptors keep writing. Two ways, each checked to make writes fail before
recovery is asserted:

* immutable files (`chattr +i`, as root): even the connections the workers already hold fail
  ("disk I/O error"), and the ones they open next are read-only;
* read-only files and a reload of the workers (SIGHUP), so that they open the database during
  the episode — how the workers of the original report got stuck: without dropping those
  connections not one write succeeds afterwards. Run as root, the server is started without the
  capabilities that let root ignore file modes (`setpriv`), as an unprivileged server would be.
"""

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.databases import fresh_database
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.probes import KeepAlive, assert_problem, logged
from tests.e2e.world import issue, stroller_and_maternity

pytestmark = pytest.mark.e2e
WORKERS = 2


ROOT = os.geteuid() == 0
IMMUTABLE, READ_ONLY = "immutable files", "read-only files, reloaded workers"
# Without root there is no chattr; root can do both.
WAYS = [IMMUTABLE, READ_ONLY] if ROOT else [READ_ONLY]
# Capabilities that let root write whatever a file's mode says.
AS_UNPRIVILEGED = ("setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner,-linux_immutable",
                   "--inh-caps=-all")


class Unwritable:
    """The database's files made unwritable for the server, and writable again."""

    def __init__(self, way: str, database: Path, proc):
        # Not the -shm file: SQLite maps it into memory, and a write to an immutable mapping
        # is a SIGBUS that kills the process instead of failing the write.
        self.way, self.files, self.proc = way, [database, Path(f"{database}-wal")], proc

    def __enter__(self):
        if self.way == IMMUTABLE:
            subprocess.run(["chattr", "+i", *map(str, self.files)], check=True)
        else:
            for path in self.files:
                path.chmod(0o444)
            os.kill(self.proc.pid, signal.SIGHUP)  # new workers open the read-only files
            time.sleep(3)
        return self

    def __exit__(self, *exc):
        self.undo(check=True)

    def undo(self, check=False):
        if self.way == IMMUTABLE:
            subprocess.run(["chattr", "-i", *map(str, self.files)], check=check)
        else:
            for path in self.files:
                path.chmod(0o644)


def _redeem(client, maternity, payload, idem):
    return client.request("POST", "/api/v1/redemptions", {
        "payload": payload, "order_amount": 25000, "store_id": maternity["store_id"]}, maternity["key"],
        headers={"Idempotency-Key": idem})


@pytest.mark.parametrize("way", WAYS)
def test_a_read_only_episode_answers_503_and_every_worker_writes_again_after(tmp_path, way):
    with fresh_database(None, tmp_path) as url:
        database = Path(url.removeprefix("sqlite:///"))
        prefix = AS_UNPRIVILEGED if way == READ_ONLY and ROOT else ()
        proc, server = start_server(url, tmp_path, workers=WORKERS, prefix=prefix)
        episode = None
        try:
            stroller, maternity, offer = stroller_and_maternity(server)
            payloads = [c["payload"] for c in issue(server, stroller, offer, count=60)]
            assert _redeem(server, maternity, payloads.pop(), "before")[0] == 201
            refused = {}
            with Unwritable(way, database, proc) as episode:
                pinned = KeepAlive(server)
                # Writes really fail now, on the connection the worker already had and on the
                # read-only ones it opens after dropping it.
                for i in range(4):
                    idem = f"during-{i}"
                    refused[idem] = payloads.pop()
                    answer = _redeem(pinned, maternity, refused[idem], idem)
                    assert_problem(answer, 503, "database_not_writable")
                    assert answer[1]["Retry-After"] == "5"
                # Reads go on, and the worker says its database cannot be written.
                assert pinned.request("GET", "/api/v1/merchants/me", key=maternity["key"])[0] == 200
                status, _, body = pinned.request("POST", "/api/v1/redemptions/verify", {
                    "payload": payloads[-1], "order_amount": 25000, "store_id": maternity["store_id"]},
                    maternity["key"])
                assert status == 200 and json.loads(body)["valid"] is True
                status, _, body = pinned.request("GET", "/healthz")
                assert (status, json.loads(body)) == (200, {"status": "degraded", "database": "not_writable",
                                                            "rate_limits": "per_process"})
                status, _, body = pinned.request("GET", "/readyz")  # asks with a write of its own
                assert status == 503 and json.loads(body)["checks"]["database"] == "not_writable", body
                pinned.close()
                # Every worker meets the episode (new connections land on either).
                for i in range(6):
                    idem = f"during-any-{i}"
                    refused[idem] = payloads.pop()
                    assert_problem(_redeem(server, maternity, refused[idem], idem), 503, "database_not_writable")
            assert logged(server, "database cannot be written; writes answer 503 until it can")

            # Writable again. A connection opened during the episode may refuse one more write
            # (then it is dropped); after that every write of every worker succeeds.
            answers = [_redeem(server, maternity, payloads.pop(), str(uuid.uuid4()))[0] for _ in range(30)]
            assert set(answers) <= {201, 503}, answers
            first_success = answers.index(201)
            assert first_success <= 2 * WORKERS and set(answers[first_success:]) == {201}, answers
            for idem, payload in refused.items():  # refused with 503, nothing was written: retry works
                status, _, body = _redeem(server, maternity, payload, idem)
                assert status == 201, body
            healths = [json.loads(server.request("GET", "/healthz")[2]) for _ in range(8)]
            assert all(h["database"] == "writable" and h["status"] == "ok" for h in healths), healths
            readies = [json.loads(server.request("GET", "/readyz")[2]) for _ in range(8)]
            assert all(r.get("status") == "ready" for r in readies), readies
            result = server.flask("exchange", "check-ledger")
            assert result.returncode == 0, result.stderr + result.stdout
            assert "attempt to write a readonly database" not in result.stderr
        finally:
            if episode is not None:
                episode.undo()  # immutable files could not even be removed
            stop_server(proc)
