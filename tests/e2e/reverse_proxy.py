"""Debian's nginx in front of the test's servers, with the project's own config/nginx/exchange.conf:
a foreground child of the test (`daemon off`) on a free loopback port, with its pid file, logs
and temporary files in a directory of its own (never /var/log/nginx or /run)."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from config.nginx import render
from tests.e2e.conftest import free_port


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    assert found, "nginx is missing: run scripts/system-deps.sh"
    return found


def standalone_config(prefix: Path, site: str) -> Path:
    """A whole nginx.conf around `site` (e.g. the project's exchange.conf), everything nginx
    writes under `prefix`."""
    prefix.mkdir(parents=True, exist_ok=True)
    (prefix / "site.conf").write_text(site)
    # As root nginx would run its workers as `nobody`, who cannot enter the test's temporary
    # directory: they run as the test's own user instead.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    temp = "\n".join(f"    {kind}_temp_path {prefix / kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                             "uwsgi", "scgi"))
    main = prefix / "nginx.conf"
    main.write_text(f"""daemon off;
{user}
worker_processes 1;
pid {prefix / 'nginx.pid'};
error_log {prefix / 'error.log'} info;
events {{ worker_connections 1024; }}
http {{
    access_log {prefix / 'access.log'};
{temp}
    include {prefix / 'site.conf'};
}}
""")
    return main


def check_config(config: Path, prefix: Path) -> subprocess.CompletedProcess:
    return subprocess.run([nginx_binary(), "-t", "-p", str(prefix), "-e", str(prefix / "error.log"),
                           "-c", str(config)], capture_output=True, text=True, timeout=30)


class Nginx:
    """nginx on 127.0.0.1:`port` (a free one unless told) proxying to `servers` (host:port each)
    with config/nginx/exchange.conf — or serving `site(listen)`, a server block of its own."""

    def __init__(self, prefix: Path, servers: list[str] | None = None, port: int | None = None,
                 site: Callable[[str], str] | None = None):
        self.prefix, self.port = prefix, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        listen = f"127.0.0.1:{self.port}"
        self.config = standalone_config(prefix, site(listen) if site else render(listen, servers))
        self.proc: subprocess.Popen | None = None

    def start(self) -> Nginx:
        checked = check_config(self.config, self.prefix)
        assert checked.returncode == 0, checked.stderr
        self.proc = subprocess.Popen([nginx_binary(), "-p", str(self.prefix), "-e", str(self.prefix / "error.log"),
                                      "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + 20
        while True:
            assert self.proc.poll() is None, f"nginx exited: {self.error_log()[-2000:]}"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                assert time.monotonic() < deadline, f"nginx did not listen: {self.error_log()[-2000:]}"
                time.sleep(0.05)

    def error_log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        """The master and its worker (one process group), then the master reaped."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None
