"""The one way services change the database: `with unit_of_work() as uow:`.

A unit of work is one transaction on the request's connection: it commits when the block ends
and rolls back when it raises. On SQLite it is the writer — the request's read transaction
(authentication, lookups) ends, the server's writers queue on `db.writer_lock`, and `BEGIN
IMMEDIATE` takes SQLite's write lock up front (a deferred transaction that reads and then writes
would fail at once with "database is locked" when another writer got in between). On PostgreSQL
read work simply joins the unit (READ COMMITTED: each statement sees the latest commits) and
rows are locked as the services ask (`FOR UPDATE`).

With `once=` (an Idempotency-Key, see `exchange.db.idempotency`) the key is claimed first thing
in the transaction (together with the `holds=`, locks taken up front, in one round trip on
PostgreSQL) and `uow.answer(result)` stores the answer, in the same commit as the effect it
answers for: a replay raises `Replay` at entry; a refusal (a `DomainError`) is stored in a
transaction of its own after the failed one rolled back, so a retry gets the same refusal.

`before_commit(hook)` runs `hook(uow)` after the block, inside the transaction (the outbox of
events is written there). Units of work do not nest: a service that needs another's effect calls
its functions that take the `uow`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from ..errors import DomainError
from ..extensions import db
from .database import Database
from .engine import SQLITE_BEGIN
from .idempotency import KeyTaken, KeyUnusable, Once
from .statements import pipelined

_OPEN = "exchange.unit_of_work"  # Session.info key: the unit of work running on the session


class UnitOfWork:
    """One transaction: `session` for the ORM, `dialect` its database's name."""

    def __init__(self, once: Once | None = None, holds: Sequence[Callable[[Session], None]] = (),
                 database: Database | None = None) -> None:
        self.once, self._holds = once, holds
        self._database = database or db
        self.session: Session = self._database.session()
        self.dialect = self.session.get_bind().dialect.name
        self.response: str | None = None   # with `once`: the stored answer's JSON
        self._hooks: list[Callable[[UnitOfWork], None]] = []
        self._lock = None

    def answer(self, result: Any, view: dict | None = None) -> str:
        """With `once`: store `result` as the request's answer (committed with the effect); its
        JSON. `view`: `result` as the route dumps it, when the caller has it already."""
        self.response = self.once.seal(self.session, result, view)
        return self.response

    def before_commit(self, hook: Callable[[UnitOfWork], None]) -> None:
        self._hooks.append(hook)

    def __enter__(self) -> UnitOfWork:
        session = self.session
        if session.info.get(_OPEN):
            raise RuntimeError("units of work do not nest: pass the open one (`uow`) down instead")
        if self.dialect == "sqlite" and session.in_transaction():
            # Whatever read-only work ran before this unit: its deferred transaction cannot
            # become the writer, and what is written must be read under the lock.
            session.rollback()
        self._lock = self._database.writer_lock.held()
        self._lock.__enter__()
        try:
            if self.dialect == "sqlite":
                connection = session.get_bind()
                connection.info[SQLITE_BEGIN] = "IMMEDIATE"   # read by the engine's `begin` event
                session.connection()
                connection.info.pop(SQLITE_BEGIN, None)  # a SAVEPOINT (the tests) begins no BEGIN
            session.info[_OPEN] = self
            with pipelined(session):
                for hold in self._holds:
                    hold(session)
                if self.once is not None:
                    self.once.claim(session)
        except BaseException:
            self._end(commit=False)
            raise
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        if error is None:
            try:
                for hook in self._hooks:
                    hook(self)
                if self.once is not None and self.response is None:
                    raise RuntimeError("a unit of work with an Idempotency-Key must answer()")
                self._end(commit=True)
            except KeyTaken:
                self._end(commit=False)
                self.once.answer_stored()  # raises Replay, or the key is still in progress:
                raise KeyUnusable("A request with this Idempotency-Key is still being processed; "
                                  "retry shortly.", code="idempotency_in_progress", status=409) from None
            except BaseException:
                self._end(commit=False)
                raise
            return False
        self._end(commit=False)
        if self.once is not None and isinstance(error, DomainError) and not isinstance(error, KeyUnusable):
            self.once.store_refusal(error)
        return False

    def _end(self, *, commit: bool) -> None:
        session = self.session
        session.info.pop(_OPEN, None)
        try:
            if commit:
                session.commit()
            else:
                session.rollback()
        finally:
            lock, self._lock = self._lock, None
            if lock is not None:
                lock.__exit__(None, None, None)


def unit_of_work(once: Once | None = None, holds: Sequence[Callable[[Session], None]] = (),
                 database: Database | None = None) -> UnitOfWork:
    """A unit of work on the app's database (or `database`); see the module's docstring."""
    return UnitOfWork(once, holds, database)


def open_unit(session: Session) -> UnitOfWork | None:
    """The unit of work running on `session`, if one is."""
    return session.info.get(_OPEN)
