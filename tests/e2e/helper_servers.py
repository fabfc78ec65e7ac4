"""Servers a test starts, stops and starts again on the same port to stage an outage: a
redis-server and a throw-away PostgreSQL cluster of its own (never the shared one others use)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from tests.e2e.conftest import free_port


class RedisServer:
    """A redis-server on a free loopback port (scripts/system-deps.sh installs it), empty at
    every start."""

    def __init__(self, tmp_path: Path):
        self.binary = shutil.which("redis-server")
        assert self.binary, "redis-server is missing: run scripts/system-deps.sh"
        self.port, self.dir, self.proc = free_port(), tmp_path, None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen([self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.dir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url)
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    client.ping()
                    return self
                except redis.ConnectionError:
                    assert time.monotonic() < deadline, "redis-server did not start"
                    time.sleep(0.1)
        finally:
            client.close()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def keys(self, pattern: str = "*") -> list:
        with redis.Redis.from_url(self.url) as client:
            return client.keys(pattern)


class ThrowawayPostgres:
    """A PostgreSQL cluster in a temporary directory on a free port, stopped and started at will.

    `initdb` refuses to run as root, so as root the cluster belongs to the `postgres` user (the
    server package creates it) and its commands run as that user."""

    def __init__(self):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        assert found, "PostgreSQL's server programs are missing: run scripts/system-deps.sh"
        self.bin = Path(found[-1]).parent
        self.as_user = "postgres" if os.geteuid() == 0 else None
        self.dir = Path(tempfile.mkdtemp(prefix="exchange-pg-"))
        if self.as_user:
            account = pwd.getpwnam(self.as_user)
            os.chown(self.dir, account.pw_uid, account.pw_gid)
        self.data, self.port = self.dir / "data", free_port()
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self.as_user:
            command = ["runuser", "-u", self.as_user, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=self.dir)
        assert result.returncode == 0, f"{program} failed: {result.stdout}\n{result.stderr}"

    def start(self) -> ThrowawayPostgres:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.dir} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.dir / "postgres.log"),
                  "-w", "-t", "60", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def remove(self) -> None:
        if self.running():
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
