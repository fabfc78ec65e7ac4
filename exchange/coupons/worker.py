"""A background thread in each server process that finishes coupon batches (and, hourly,
deletes what is past its retention: `exchange/retention.py`).

Leases keep several processes from working on one batch; when a process dies its batches are
taken over once their lease lapses, so a batch survives a restart of the whole server.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from ..db import outages
from ..metrics.queues import record_queue_depths_now_and_then
from ..retention import purge_due
from .batches import work, worker_name
from .print_runs import draw_pending_sheets

log = logging.getLogger("exchange.batches")
IDLE_SECONDS = 1.0
PURGE_SECONDS = 3600.0
_started: set[int] = set()
_lock = threading.Lock()


def _loop(app: Flask) -> None:
    owner = worker_name()
    next_purge = time.monotonic()
    while True:
        try:
            with app.app_context():
                worked = work(owner) + draw_pending_sheets(owner)
                record_queue_depths_now_and_then()
                if time.monotonic() >= next_purge:
                    # Housekeeping off the request path: records past their retention.
                    next_purge = time.monotonic() + PURGE_SECONDS
                    purge_due()
        except Exception as error:
            outage = outages.database_outage(error)
            if outage:  # said once, not once a second (exchange.db.outages)
                outages.note_failure(outage, error)
            else:
                log.exception("batch worker failed; retrying")
            worked = 0
        if not worked:
            time.sleep(IDLE_SECONDS)


def start_worker(app: Flask) -> None:
    """Start this process's worker once (gunicorn forks workers: start after the fork)."""
    with _lock:
        if id(app) in _started:
            return
        _started.add(id(app))
    threading.Thread(target=_loop, args=(app,), name="coupon-batches", daemon=True).start()


def init_app(app: Flask) -> None:
    if app.config.get("BATCH_WORKER", True):
        app.before_request(lambda: start_worker(app))
