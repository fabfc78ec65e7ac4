"""Two gunicorn servers on one PostgreSQL database and one Redis, behind nginx with the project's
config/nginx/exchange.conf: the deployment docs/scaling.md describes, on loopback."""

from __future__ import annotations

import http.client
import json
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import text

from exchange.db.engine import make_engine
from tests.e2e.conftest import Server, free_port, start_server, stop_server
from tests.e2e.helper_servers import RedisServer
from tests.e2e.reverse_proxy import Nginx


class Cluster:
    """`servers` A and B (2 workers each), `proxy` (a `Server` whose URL is nginx's), `redis`."""

    def __init__(self, database_url: str, tmp_path: Path, **env: str):
        self.database_url, self.tmp_path, self.env = database_url, tmp_path, env
        self.redis = RedisServer(tmp_path).start()
        self.procs: dict[str, subprocess.Popen] = {}
        self.servers: dict[str, Server] = {}
        self.nginx: Nginx | None = None
        self._engine = None

    def query(self, sql: str, **params) -> list:
        """Rows of one query on the shared database, read beside the servers."""
        self._engine = self._engine or make_engine(self.database_url)
        with self._engine.connect() as conn:
            return conn.execute(text(sql), params).all()

    def start(self) -> Cluster:
        port = free_port()
        # Every server the same environment (docs/scaling.md): one database, one Redis, one
        # signing-key directory (start_server's, under the same tmp_path), the proxy's address.
        shared = {"EXCHANGE_REDIS_URL": self.redis.url, "EXCHANGE_PUBLIC_URL": f"http://127.0.0.1:{port}",
                  "EXCHANGE_PROXY_HOPS": "1", **self.env}
        with ThreadPoolExecutor(2) as pool:  # side by side: each waits for its own health
            starting = {name: pool.submit(start_server, self.database_url, self.tmp_path, **shared)
                        for name in "AB"}
        for name, future in starting.items():
            if future.exception() is None:  # kept, so that `stop` stops it even if the other failed
                self.procs[name], self.servers[name] = future.result()
        for future in starting.values():
            future.result()
        upstreams = [server.url.removeprefix("http://") for server in self.servers.values()]
        self.nginx = Nginx(self.tmp_path / "nginx", upstreams, port=port)
        self.nginx.start()
        self.proxy = Server(self.nginx.url, self.database_url, self.servers["A"].env)
        return self

    def stop(self) -> None:
        if self.nginx is not None:
            self.nginx.stop()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(stop_server, self.procs.values()))
        self.redis.stop()
        if self._engine is not None:
            self._engine.dispose()

    def kill(self, name: str) -> None:
        """kill -9 of one server's master and every worker."""
        stop_server(self.procs[name], signal.SIGKILL)

    def server_of(self, worker: str) -> str:
        """Which server a worker (`host:pid`, as leases name it) belongs to: the gunicorn master
        among the process's ancestors (a request worker's parent, or the master's delivery process)."""
        masters = {proc.pid: name for name, proc in self.procs.items()}
        pid = int(worker.rpartition(":")[2])
        while pid > 1:
            if pid in masters:
                return masters[pid]
            pid = _parent(pid)
        raise AssertionError(f"{worker} is no process of either server")

    def answered_by(self, request_ids: set[str]) -> Counter:
        """How many of these requests (by X-Request-Id) each server answered, from its log."""
        tally = Counter()
        for name, server in self.servers.items():
            for line in server.log_path.read_text().splitlines():
                if line.startswith("{") and json.loads(line).get("request_id") in request_ids:
                    tally[name] += 1
        return tally

    def logs(self) -> str:
        return "\n".join(f"---- server {name} ----\n{server.log_path.read_text()[-4000:]}"
                         for name, server in self.servers.items()) + \
            f"\n---- nginx ----\n{self.nginx.error_log()[-3000:] if self.nginx else ''}"


def _parent(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return 0
    return int(stat.rpartition(")")[2].split()[1])  # after "pid (name) state": the parent's pid


_LOOPBACK = re.compile(r"^127\.\d+\.\d+\.\d+$")


def request_from(source: str, url: str, method: str, path: str, body=None, headers=None):
    """One request from the loopback address `source` (any of 127.0.0.0/8), so that nginx sees
    a client of that address; (status, headers, body)."""
    assert _LOOPBACK.match(source), source
    host, _, port = url.removeprefix("http://").partition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30, source_address=(source, 0))
    try:
        data = None if body is None else json.dumps(body).encode()
        sent = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=data, headers={**sent, **(headers or {})})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


class LeaseWatcher:
    """While open, a thread of its own asks every 20 ms which workers hold a lease (`sql` selects
    the `lease_owner` of the rows watched); `servers()` names the servers they belong to."""

    def __init__(self, cluster: Cluster, sql: str, **params):
        self.cluster, self.sql, self.params = cluster, sql, params
        self.owners: set[str] = set()
        self._lock, self._open = threading.Lock(), threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        engine = make_engine(self.cluster.database_url)
        try:
            while self._open.is_set():
                with engine.connect() as conn:
                    owners = conn.execute(text(self.sql), self.params).scalars().all()
                with self._lock:
                    self.owners.update(owner for owner in owners if owner)
                time.sleep(0.02)
        finally:
            engine.dispose()

    def servers(self) -> set[str]:
        with self._lock:
            return {self.cluster.server_of(owner) for owner in self.owners}

    def __enter__(self) -> LeaseWatcher:
        self._open.set()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._open.clear()
        self._thread.join()
