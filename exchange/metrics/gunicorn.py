"""gunicorn's side of the metrics (called from gunicorn.conf.py, in the master process).

prometheus-client's multi-process mode needs a directory that every worker writes its values
into, set before any worker imports the library, emptied when the server starts (files of an
earlier run would be added to this one's) and told when a worker dies (its gauges are then
dropped; its counters stay, as they must). Unless `PROMETHEUS_MULTIPROC_DIR` names one, each
server gets a temporary directory of its own, removed when it stops.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

_CREATED = "EXCHANGE_METRICS_DIR_CREATED"


def prepare_directory() -> str:
    """At config load: the directory, made if none is given (kept across a reload: SIGHUP)."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="exchange-metrics-")
        os.environ[_CREATED] = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    return os.environ["PROMETHEUS_MULTIPROC_DIR"]


def empty_directory() -> None:
    """When the master starts: nothing of an earlier server's workers is counted."""
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def worker_exited(pid: int) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)


def serve_separately(bind: str) -> None:
    """`EXCHANGE_METRICS_BIND=host:port`: the exposition without a key, on an address that only
    the scraper can reach (a thread of the master; it reads the workers' files, no database)."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    host, _, port = bind.rpartition(":")
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    start_http_server(int(port), addr=host.strip("[]") or "127.0.0.1", registry=registry)


def remove_directory() -> None:
    created = os.environ.get(_CREATED)
    if created and created == os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shutil.rmtree(created, ignore_errors=True)
