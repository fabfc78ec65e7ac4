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
import subprocess
import sys
import threading

log = logging.getLogger("exchange.webhooks")
NICE = 10
RESTART_SECONDS = 1.0
PARENT = "EXCHANGE_DELIVERY_PARENT"
_PR_SET_PDEATHSIG = 1


class DeliveryProcess:
    """`flask exchange deliver --beside-server`, kept running by a thread of gunicorn's master."""

    def __init__(self, cwd: str) -> None:
        self.cwd = cwd
        self.proc: subprocess.Popen | None = None
        self.stopping = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._keep_running, name="delivery-process", daemon=True).start()

    def _keep_running(self) -> None:
        while not self.stopping.is_set():
            self.proc = subprocess.Popen(
                # coreutils' nice: lowered from its first instruction on (imports included).
                ["nice", "-n", str(NICE), sys.executable, "-m", "flask", "--app", "wsgi",
                 "exchange", "deliver", "--beside-server"],
                cwd=self.cwd, env={**os.environ, PARENT: str(os.getpid())})
            self.proc.wait()
            if not self.stopping.is_set():
                log.warning("the delivery process exited (%s); starting it again", self.proc.returncode)
                self.stopping.wait(RESTART_SECONDS)

    def stop(self) -> None:
        self.stopping.set()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


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
