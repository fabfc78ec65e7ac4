"""What each request adds to the metrics: its route template, status and time, and for the
money path its outcome code. Also the database pool and the rate-limit store, as they change."""

from __future__ import annotations

import json
import time

from flask import Flask, g, request
from sqlalchemy import event

from ..extensions import db, limiter
from .registry import (
    DB_POOL_CAPACITY,
    DB_POOL_IN_USE,
    LATENCY,
    RATE_LIMITS_DEGRADED,
    REDEMPTIONS,
    REQUESTS,
    REVERSALS,
    VERIFIES,
)

UNMATCHED = "(unmatched)"  # a 404 for a path no route has: never the path itself
# Route template → (counter, what a success is called).
_OUTCOMES = {
    ("POST", "/api/v1/redemptions"): (REDEMPTIONS, "redeemed"),
    ("POST", "/api/v1/redemptions/verify"): (VERIFIES, "valid"),
    ("POST", "/api/v1/redemptions/<id:redemption_id>/reversals"): (REVERSALS, "reversed"),
}


class _Seen:
    degraded = None


_seen = _Seen()


def _start() -> None:
    g.metrics_started = time.perf_counter()


def _finish(response):
    rule = request.url_rule.rule if request.url_rule is not None else UNMATCHED
    elapsed = time.perf_counter() - g.get("metrics_started", time.perf_counter())
    REQUESTS.labels(request.method, rule, str(response.status_code)).inc()
    LATENCY.labels(request.method, rule).observe(elapsed)
    counted = _OUTCOMES.get((request.method, rule))
    if counted:
        counter, success = counted
        counter.labels(_outcome(response, success)).inc()
    if limiter.degraded is not _seen.degraded:
        _seen.degraded = limiter.degraded
        RATE_LIMITS_DEGRADED.set(1 if limiter.degraded else 0)
    return response


def _outcome(response, success: str) -> str:
    """`success`, `replayed`, or the answer's stable `code` (a problem's, or verify's refusal)."""
    if response.headers.get("Idempotent-Replayed") == "true":
        return "replayed"
    if response.status_code < 300 and success != "valid":
        return success  # a redemption or a reversal made: its body need not be read
    try:  # a few hundred bytes of JSON, read before compression (see `init_app`)
        body = json.loads(response.get_data())
    except ValueError:
        body = {}
    code = body.get("code") if isinstance(body, dict) else None
    if response.status_code < 300 and not (success == "valid" and body.get("valid") is False):
        return success
    return code if isinstance(code, str) and code.isidentifier() else f"http_{response.status_code}"


def _watch_pool(engine) -> None:
    pool = engine.pool
    DB_POOL_CAPACITY.set(pool.size() + max(getattr(pool, "_max_overflow", 0), 0) if hasattr(pool, "size") else 1)
    DB_POOL_IN_USE.set(0)
    # Listeners on the engine stay on the pool that `dispose()` puts in its place (outages).
    event.listen(engine, "checkout", lambda *_: DB_POOL_IN_USE.inc())
    event.listen(engine, "checkin", lambda *_: DB_POOL_IN_USE.dec())


def init_app(app: Flask) -> None:
    """After delivery's hooks, so `_finish` runs before flask-compress (after_request hooks run
    in reverse order) and reads the body as the view made it."""
    app.before_request(_start)
    app.after_request(_finish)
    if not app.extensions.get("exchange_metrics_pool"):
        _watch_pool(db.engine)
        app.extensions["exchange_metrics_pool"] = True
    RATE_LIMITS_DEGRADED.set(0)
