"""Webhook deliveries in a background thread of each server process, beside the batch worker
(`flask exchange deliver` runs the same loop in a process of its own).

Its own thread, not a step of the batch loop: a receiver that takes its full timeout must not
hold up coupon batches, nor a 100,000-coupon batch the deliveries.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from ..coupons.batches import worker_name
from ..db import outages
from ..extensions import db
from .attempts import waited_seconds, work_once
from .pace import Pace

log = logging.getLogger("exchange.webhooks")
_started: set[int] = set()
_lock = threading.Lock()


def _own_connections(app: Flask):
    """On SQLite, connections of this thread's own (opened and closed each pass), never the
    requests' pool: one opened while the files were read-only stays read-only, and handed back
    to the shared pool it would refuse a till's write after the episode (the requests' own
    refusals drop the pool, but not a connection this thread holds at that moment)."""
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        return None
    from sqlalchemy.pool import NullPool

    from ..db.engine import make_engine

    return make_engine(app.config["DATABASE_URL"], poolclass=NullPool)


def run(app: Flask, *, stop: threading.Event | None = None) -> None:
    owner = worker_name()
    engine = _own_connections(app)
    # A pass every quarter second (its take and record transactions then serve the many
    # redemptions of a busy quarter second together: on SQLite each takes the one write lock),
    # the next at once after a full one, or every second while the CPUs are busy with other
    # work, for up to half a minute (exchange/webhooks/pace.py).
    pace = Pace()
    while stop is None or not stop.is_set():
        began = time.monotonic()
        try:
            with app.app_context():
                if engine is not None:
                    db.use_for_this_thread(engine)
                last = work_once(owner)
                wait = pace.wait(last.done > 0, time.monotonic() - began, waited_seconds, full=last.full)
        except Exception as error:
            outage = outages.database_outage(error)
            if outage:
                outages.note_failure(outage, error)
            else:
                log.exception("webhook worker failed; retrying")
            wait = pace.wait(False, 0.0)
        time.sleep(wait)


def start_worker(app: Flask) -> None:
    """Start this process's delivery thread once (gunicorn forks workers: start after the fork)."""
    with _lock:
        if id(app) in _started:
            return
        _started.add(id(app))
    threading.Thread(target=run, args=(app,), name="webhook-deliveries", daemon=True).start()


def init_app(app: Flask) -> None:
    if app.config.get("WEBHOOK_WORKER", True):
        app.before_request(lambda: start_worker(app))
