"""One JSON log line per request, with a request id echoed as `X-Request-Id`.

Only the method, the route's path, status, duration and merchant id are logged: never a header,
a body, a query string, a key, a token or a customer reference. Paths under `/c/` carry a coupon
token, so they are logged by their route pattern, not as sent.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

log = logging.getLogger("exchange.request")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# A careless client may put a key or a coupon token in a URL or a header: never log one.
_SECRET = re.compile(r"(?:mk|tk|op)_[A-Za-z0-9_-]+|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_.-]+")


def redact(text: str) -> str:
    return _SECRET.sub("[redacted]", text)


class _RequestIdFilter(logging.Filter):
    """Every line logged while serving a request carries its request id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id") and has_request_context():
            record.request_id = g.get("request_id")
        return True


def _configure_logging(level: str) -> None:
    root = logging.getLogger("exchange")
    if any(getattr(h, "_exchange", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                       rename_fields={"asctime": "time", "levelname": "level"}))
    handler._exchange = True
    handler.addFilter(_RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False


def _start() -> None:
    g.started = time.perf_counter()
    incoming = request.headers.get("X-Request-Id", "")
    trusted = _REQUEST_ID.match(incoming) and not _SECRET.search(incoming)
    g.request_id = incoming if trusted else uuid.uuid4().hex


def _finish(response):
    response.headers["X-Request-Id"] = g.get("request_id", "")
    principal = g.get("principal")
    rule = request.url_rule.rule if request.url_rule is not None else None
    log.info("request", extra={
        "request_id": g.get("request_id"),
        "method": request.method,
        "path": rule if rule and rule.startswith("/c/") else redact(request.path),
        "route": rule,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 2),
        "merchant_id": principal.merchant_id if principal else None,
        "principal": principal.kind if principal else None,
    })
    return response


def init_app(app: Flask) -> None:
    _configure_logging(app.config["LOG_LEVEL"])
    app.before_request(_start)
    app.after_request(_finish)
