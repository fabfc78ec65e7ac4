"""Idempotency-Key on the wire: the header, the request's fingerprint, the replayed answer.

The key is claimed and the answer stored by the service's unit of work (`exchange.db.idempotency`,
`unit_of_work(once=…)`); a route only says what it answers with.
"""

from __future__ import annotations

import hashlib
import json

from flask import Response, request

from ..db.idempotency import MAX_KEY, KeyUnusable, Once, Replay
from ..errors import DomainError
from .problems import PROBLEM_JSON


def idempotency_key() -> str:
    key = request.headers.get("Idempotency-Key", "")
    if not key:
        raise DomainError("Send an `Idempotency-Key` header (e.g. a UUID) with every money-moving "
                          "request, and the same key when you retry it.", code="idempotency_key_missing")
    if len(key) > MAX_KEY or not key.isprintable() or not key.isascii():
        raise DomainError("The Idempotency-Key must be 1–255 printable ASCII characters.",
                          code="idempotency_key_invalid")
    return key


def fingerprint(body: dict, path: str) -> str:
    return hashlib.sha256(json.dumps([path, body], sort_keys=True, default=str).encode()).hexdigest()


def run_idempotently(merchant_id: int, body: dict, status: int, dump, operation) -> Response:
    """Answer a money-moving POST once per Idempotency-Key.

    `operation(once)` runs the service, whose `unit_of_work(once=once)` claims the key and stores
    `dump(result)` with it; it returns the stored JSON. A refusal raised before the service's
    unit of work began (a forged token is refused before SQLite's write lock is queued for) is
    stored here, as the unit of work stores its own.
    """
    once = Once(merchant_id, idempotency_key(), fingerprint(body, request.path), status, dump)
    try:
        try:
            return Response(operation(once), status, mimetype="application/json")
        except DomainError as error:
            if not once.settled and not isinstance(error, KeyUnusable):
                once.store_refusal(error)
            raise
    except Replay as replay:
        mimetype = PROBLEM_JSON if replay.status >= 400 else "application/json"
        response = Response(replay.body, replay.status, mimetype=mimetype)
        response.headers["Idempotent-Replayed"] = "true"
        return response
