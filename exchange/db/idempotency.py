"""Idempotent writes, the way Stripe does them (SPEC §4.2).

A money-moving request records its Idempotency-Key in the same transaction as its effect:
the service's transaction first looks the key up (`Once.claim`), then does the work, then
stores the response under the key (`Once.seal`), and all of it commits together. So an effect
and its stored response never part, and a request that dies leaves no half-claimed key behind.

* A retry with the same key gets the stored response back (`Idempotent-Replayed: true`).
* The same key with a different body is 422 `idempotency_conflict`.
* Two requests with one key at once make one effect. On PostgreSQL the second finds the key
  held (a transaction-scoped advisory lock on it) and gets 409 `idempotency_in_progress`; on
  SQLite write transactions run one after another, so the second one starts only after the
  first committed and gets its stored response, as a retry would.
* A refusal is stored too (a retry gets the same refusal), in a transaction of its own after
  the refused work was rolled back; if another request with the key stored an answer in
  between, that answer is the one given.
* Keys are kept for `EXCHANGE_IDEMPOTENCY_RETENTION_HOURS` (default `RETENTION`, never under
  24 h), then `purge_expired` deletes them (driven by `exchange/retention.py`); a key whose
  retention has passed is new again.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import String, Text, UniqueConstraint, bindparam, delete, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from .. import clock
from ..errors import DomainError
from .base import Base
from .statements import Compiled, row_values

RETENTION = timedelta(hours=48)
MAX_KEY = 255
PURGE_BATCH = 5000


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("merchant_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int]
    key: Mapped[str] = mapped_column(String(MAX_KEY))
    request_hash: Mapped[str] = mapped_column(String(64))
    # Always "done" now that the key is stored with its response ("in_progress" was written
    # by versions that claimed a key in a transaction of its own).
    status: Mapped[str] = mapped_column(String(12))
    response_status: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    locked_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(index=True)


class KeyUnusable(DomainError):
    """The key cannot run this request (another body, or still running): never stored."""


class Replay(Exception):
    def __init__(self, status: int, body: str):
        super().__init__(status)
        self.status, self.body = status, body


class KeyTaken(Exception):
    """Another transaction stored the key first (a backstop: `claim` normally sees it)."""


class Once:
    """One request's key, claimed and sealed inside the service's own transaction."""

    def __init__(self, merchant_id: int, key: str, request_hash: str, status: int, dump):
        self.merchant_id, self.key, self.request_hash = merchant_id, key, request_hash
        self.status, self.dump = status, dump
        self.settled = False  # an answer is stored (or found) for the key: nothing more to store

    def claim(self, session: Session) -> None:
        """First thing in the transaction: raise `Replay` or `KeyUnusable` if the key is used."""
        if session.get_bind().dialect.name == "postgresql":
            # One round trip: the key's transaction lock, and its record if there is one.
            row = _LOCK_AND_FIND.first(session, {"name": f"{self.merchant_id}:{self.key}",
                                                 "merchant_id": self.merchant_id, "key": self.key})
            if not row.locked:
                raise KeyUnusable("A request with this Idempotency-Key is still being processed; "
                                  "retry shortly.", code="idempotency_in_progress", status=409)
            self._answer(session, row if row.id is not None else None)
            return
        self._answer_if_used(session)

    def seal(self, session: Session, result, view: dict | None = None) -> str:
        """Last thing in the transaction: the response, stored under the key; returns its JSON.
        `view`: `result` already dumped as the route's `dump` would (not dumped again)."""
        body = json.dumps(self.dump(result) if view is None else view, ensure_ascii=False, default=str)
        if not self._store(session, self.status, body):
            raise KeyTaken()
        self.settled = True
        return body

    def store_refusal(self, error: DomainError) -> None:
        """After the refused work rolled back: the refusal, stored under the key (or, if another
        request with the key stored its answer in between, `Replay` of that)."""
        from ..http.problems import problem_body
        from .unit_of_work import unit_of_work

        self.settled = True
        with unit_of_work() as uow:
            if not self._store(uow.session, error.status, json.dumps(problem_body(error), ensure_ascii=False)):
                self._answer_if_used(uow.session)

    def answer_stored(self) -> None:
        """Raise `Replay` if the key's answer is stored by now."""
        from .unit_of_work import unit_of_work

        with unit_of_work() as uow:
            self._answer_if_used(uow.session)

    def _answer_if_used(self, session: Session) -> None:
        self._answer(session, _FIND.first(session, {"merchant_id": self.merchant_id, "key": self.key}))

    def _answer(self, session: Session, found) -> None:
        """Raise `Replay` or `KeyUnusable` if `found` (the key's record, or None) says so."""
        R = IdempotencyRecord
        if found is None:
            return
        if found.created_at < clock.now() - retention() or found.response_status is None:
            # Past its retention (not purged yet), or a claim left by a request that died under
            # an older version: the key is new again.
            session.execute(delete(R).where(R.id == found.id))
            return
        if found.request_hash != self.request_hash:
            raise KeyUnusable("This Idempotency-Key was used with a different request.",
                              code="idempotency_conflict", status=422)
        raise Replay(found.response_status, found.response_body)

    def _store(self, session: Session, status: int, body: str) -> bool:
        now = clock.now()
        inserted = _INSERT_NEW.first(session, dict(
            merchant_id=self.merchant_id, key=self.key, request_hash=self.request_hash, status="done",
            response_status=status, response_body=body, locked_at=now, created_at=now))
        return inserted is not None


R = IdempotencyRecord
# Every redemption runs these: compiled once (see `prepared`).
_FIND = Compiled(select(R.id, R.request_hash, R.response_status, R.response_body, R.created_at).where(
    R.merchant_id == bindparam("merchant_id"), R.key == bindparam("key")))
_INSERT_NEW = Compiled.per_dialect({dialect.dialect.name: dialect.insert(R.__table__).values(
    row_values(R.__table__)).on_conflict_do_nothing(index_elements=["merchant_id", "key"]).returning(R.id)
    for dialect in (postgresql, sqlite)})
_LOCK_AND_FIND = Compiled(
    select(func.pg_try_advisory_xact_lock(func.hashtextextended(bindparam("name"), 0)).label("locked"),
           R.id, R.request_hash, R.response_status, R.response_body, R.created_at)
    .select_from(select(literal(1).label("one")).subquery().outerjoin(
        R, (R.merchant_id == bindparam("merchant_id")) & (R.key == bindparam("key")))))


def retention() -> timedelta:
    """How long keys are kept (the app's `IDEMPOTENCY_RETENTION`, default `RETENTION`)."""
    from flask import current_app

    return current_app.config.get("IDEMPOTENCY_RETENTION", RETENTION)


def purge_expired(now: datetime | None = None, batch: int = PURGE_BATCH) -> int:
    """Delete keys past their retention, a batch per transaction; how many were deleted."""
    from .unit_of_work import unit_of_work

    cutoff = (now or clock.now()) - retention()
    R = IdempotencyRecord
    total = 0
    while True:
        with unit_of_work() as uow:
            session = uow.session
            ids = select(R.id).where(R.created_at < cutoff).order_by(R.id).limit(batch)
            deleted = session.execute(delete(R).where(R.id.in_(ids.scalar_subquery()))).rowcount
        total += deleted
        if deleted < batch:
            return total
