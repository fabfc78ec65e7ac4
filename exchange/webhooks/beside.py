"""The server's delivery process: one per gunicorn server, beside its request workers, at a lower
CPU priority (started from gunicorn.conf.py).

Why not a thread in each request worker: a delivery is Python too — reading the due rows,
signing, an HTTP exchange, recording the answer — and a thread of a worker's shares that
worker's interpreter lock with its requests, so under load every delivery is taken out of the
redemptions' time. In a process of its own, niced, the operating system gives the request
workers the CPU first: deliveries run on what they leave, and catch up as soon as the load
eases (bench/webhooks.py measures both). The process is `flask exchange deliver`, the same loop
an operator can run elsewhere; the master restarts it if it exits, and it ends with the master
(even one killed with SIGKILL: the kernel's parent-death signal).
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
import time

log = logging.getLogger("exchange.webhooks")
NICE = 10
RESTART_SECONDS = 1.0
POLL_SECONDS = 0.5
PARENT = "EXCHANGE_DELIVERY_PARENT"
_PR_SET_PDEATHSIG = 1


class DeliveryProcess:
    """`flask exchange deliver --beside-server`, kept running by a thread of gunicorn's master.

    Started with `posix_spawn`, not `subprocess`: a `Popen` in a thread of the master waits on a
    pipe that the exec closes, and a worker the master forks meanwhile inherits that pipe and
    holds it open for its whole life (the thread then never returns). The process is watched by
    polling, as gunicorn's master reaps every child that exits (`waitpid(-1)`)."""

    def __init__(self) -> None:
        # It runs in the master's directory, with the master's environment.
        self.pid: int | None = None
        self.stopping = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._keep_running, name="delivery-process", daemon=True).start()

    def _keep_running(self) -> None:
        while not self.stopping.is_set():
            # coreutils' nice: lowered from its first instruction on (imports included).
            self.pid = os.posix_spawnp("nice", [
                "nice", "-n", str(NICE), sys.executable, "-m", "flask", "--app", "wsgi",
                "exchange", "deliver", "--beside-server"], {**os.environ, PARENT: str(os.getpid())})
            while not _gone(self.pid):
                self.stopping.wait(POLL_SECONDS)
            if not self.stopping.is_set():
                log.warning("the delivery process exited; starting it again")
                self.stopping.wait(RESTART_SECONDS)

    def stop(self) -> None:
        self.stopping.set()
        if self.pid is None or _gone(self.pid):
            return
        os.kill(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while not _gone(self.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not _gone(self.pid):
            os.kill(self.pid, signal.SIGKILL)


def _gone(pid: int) -> bool:
    """Whether the process has exited: reaped (here or by gunicorn's master), or a zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def settle_beside_server() -> None:
    """In the delivery process: an end when the server's master ends."""
    parent = int(os.environ.get(PARENT, "0"))
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if parent and os.getppid() != parent:  # the master died before the signal was asked for
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


def wanted() -> bool:
    """Whether this server delivers webhooks itself (EXCHANGE_WEBHOOK_WORKER, on by default
    outside tests)."""
    from config import ConfigError, load_config

    try:
        return bool(load_config()["WEBHOOK_WORKER"])
    except ConfigError:
        return False  # the workers will refuse to start and say why
