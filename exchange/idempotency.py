"""Idempotent writes, the way Stripe does them (SPEC §4.2).

The first request with a key claims it (a row committed on its own). Its effect and the
response are then committed *together*; a retry with the same key gets the stored response
back; the same key with a different body is 422 `idempotency_conflict`; a second request that
arrives while the first is still running is 409 `idempotency_in_progress`. A claim whose
request died before finishing is taken over after `STALE`. Keys are kept for `RETENTION`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import request
from sqlalchemy import String, Text, UniqueConstraint, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import clock
from .errors import Conflict, DomainError, Unprocessable
from .extensions import db
from .orm import Base, transaction

RETENTION = timedelta(hours=48)
STALE = timedelta(seconds=60)
MAX_KEY = 255


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("merchant_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int]
    key: Mapped[str] = mapped_column(String(MAX_KEY))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12))
    response_status: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    locked_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(index=True)


@dataclass
class Claim:
    record_id: int | None = None
    replay: tuple[int, dict] | None = None


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


def claim(merchant_id: int, key: str, request_hash: str) -> Claim:
    """Claim `key` for this request, or say what to answer instead."""
    now = clock.now()
    try:
        with transaction() as session:
            record = IdempotencyRecord(merchant_id=merchant_id, key=key, request_hash=request_hash,
                                       status="in_progress", locked_at=now, created_at=now)
            session.add(record)
            session.flush()
        return Claim(record_id=record.id)
    except IntegrityError:
        pass
    existing = db.session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.merchant_id == merchant_id, IdempotencyRecord.key == key))
    if existing is None or existing.created_at < now - RETENTION:
        # The key's retention has passed (or a concurrent request just cleared it): it is new
        # again. Cleared here, on the rare reuse, rather than on every request's hot path.
        with transaction() as session:
            session.execute(delete(IdempotencyRecord).where(
                IdempotencyRecord.merchant_id == merchant_id, IdempotencyRecord.key == key,
                IdempotencyRecord.created_at < now - RETENTION))
        return claim(merchant_id, key, request_hash)
    if existing.request_hash != request_hash:
        raise Unprocessable("This Idempotency-Key was used with a different request.",
                            code="idempotency_conflict")
    if existing.status == "done":
        return Claim(replay=(existing.response_status, json.loads(existing.response_body)))
    with transaction() as session:
        taken = session.execute(update(IdempotencyRecord).where(
            IdempotencyRecord.id == existing.id, IdempotencyRecord.status == "in_progress",
            IdempotencyRecord.locked_at < now - STALE).values(locked_at=now)).rowcount
    if taken:
        return Claim(record_id=existing.id)
    raise Conflict("A request with this Idempotency-Key is still being processed; retry shortly.",
                   code="idempotency_in_progress")


def finish(session: Session, record_id: int, status: int, body: dict) -> None:
    """Store the response in the caller's transaction, so it commits with the effect."""
    session.execute(update(IdempotencyRecord).where(IdempotencyRecord.id == record_id).values(
        status="done", response_status=status, response_body=json.dumps(body, default=str)))


def release(record_id: int) -> None:
    """The request failed unexpectedly and changed nothing: let a retry run it again."""
    with transaction() as session:
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id,
                                                        IdempotencyRecord.status == "in_progress"))


def run_idempotently(merchant_id: int, body: dict, status: int, dump, operation):
    """Answer a money-moving POST once per Idempotency-Key.

    `operation(seal)` does the work in its transaction and calls `seal(session, result)`
    before committing: that dumps the result and stores it with the key, in the same commit.
    Refusals are stored too (a retry gets the same refusal); unexpected failures release the key.
    """
    from flask import Response

    from .problems import PROBLEM_JSON, problem_body

    key = idempotency_key()
    claimed = claim(merchant_id, key, fingerprint(body, request.path))
    if claimed.replay:
        stored_status, stored_body = claimed.replay
        mimetype = PROBLEM_JSON if stored_status >= 400 else "application/json"
        response = Response(json.dumps(stored_body, ensure_ascii=False), stored_status, mimetype=mimetype)
        response.headers["Idempotent-Replayed"] = "true"
        return response

    def seal(session, result):
        payload = dump(result)
        finish(session, claimed.record_id, status, payload)
        return payload

    try:
        payload = operation(seal)
    except DomainError as error:
        _store_refusal(claimed.record_id, error.status, problem_body(error))
        raise
    except BaseException:
        release(claimed.record_id)
        raise
    return Response(json.dumps(payload, ensure_ascii=False, default=str), status, mimetype="application/json")


def _store_refusal(record_id: int, status: int, body: dict) -> None:
    with transaction() as session:
        finish(session, record_id, status, body)
