"""Real servers: gunicorn on a free loopback port, against a database of its own."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.databases import fresh_database

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, url: str, database_url: str, env: dict):
        self.url, self.database_url, self.env = url, database_url, env

    def request(self, method: str, path: str, body=None, key: str | None = None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if body is not None:
            req.add_header("Content-Type", "application/json")
        if key:
            req.add_header("Authorization", f"Bearer {key}")
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def flask(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=120)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.call_failed = report.failed
    return report


def start_server(database_url: str, tmp_path: Path, *, workers: int = 2, prefix: tuple[str, ...] = (),
                 **env_overrides) -> tuple[subprocess.Popen, Server]:
    """gunicorn (2 workers unless told) on a free port, in its own process group so it can be
    killed whole; `prefix` runs it through another program (e.g. one dropping privileges)."""
    port = free_port()
    env = {**os.environ, "EXCHANGE_ENV": "development", "EXCHANGE_DATABASE_URL": database_url,
           "EXCHANGE_SIGNING_KEY_DIR": str(tmp_path / "keys"), "PORT": str(port),
           "EXCHANGE_PUBLIC_URL": f"http://127.0.0.1:{port}", **env_overrides}
    log_path = tmp_path / f"gunicorn-{port}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([*prefix, str(BIN / "gunicorn"), "-w", str(workers), "wsgi:app"], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}", database_url, env)
    server.log_path = log_path
    server.workers = workers
    try:
        _wait_until_healthy(server, proc, log_path)
    except BaseException:
        stop_server(proc, signal.SIGKILL)  # never left running behind a failed start
        raise
    return proc, server


def stop_server(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture
def fresh_db_url(base_db_url, tmp_path):
    """A migrated database of the test's own; once the test is done with it, its ledger must
    still be whole (`check-ledger`), whatever the test did to the servers on it."""
    with fresh_database(base_db_url, tmp_path) as url:
        yield url
        assert_ledger_whole(url)


def assert_ledger_whole(url: str) -> None:
    from sqlalchemy.orm import Session

    from exchange.db.engine import make_engine
    from exchange.redemptions.reconciliation import check_ledger

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            problems = check_ledger(session)
    finally:
        engine.dispose()
    assert problems == [], problems


@pytest.fixture
def live_server(fresh_db_url, tmp_path, request):
    """A migrated fresh database served by gunicorn; yields a `Server`."""
    proc, server = start_server(fresh_db_url, tmp_path)
    try:
        yield server
    finally:
        stop_server(proc)
        if getattr(request.node, "call_failed", False):
            print("---- gunicorn log (tail) ----\n" + server.log_path.read_text()[-6000:])


def _wait_until_healthy(server: Server, proc: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 60  # a loaded 2-CPU machine boots a server (workers, delivery process) slowly
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log_path.read_text()[-2000:]}")
        try:
            if server.request("GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not become healthy: {log_path.read_text()[-2000:]}")
