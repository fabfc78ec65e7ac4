"""The app's database: one engine, and one session per request (or worker thread) bound to a
connection of its own for as long as the request lasts.

Binding the session to a connection instead of the engine means ending a transaction never
hands the connection back to the pool: a unit of work that ends the request's read transaction
and begins a write transaction (SQLite's `BEGIN IMMEDIATE`) does so on the same connection, with
no check-in, check-out or ping between (see `unit_of_work`). The tests bind the session to their
own connection instead (`bound_to`), inside a transaction rolled back after each test; every unit
of work then runs on a SAVEPOINT of it, and nothing else differs.

An outage of the database (see `exchange.db.outages`) never escapes the request, not even from
the teardown, where rolling back on a dead connection raises (gunicorn would answer its HTML 500).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from . import outages
from .engine import make_engine
from .writer_lock import WriterLock

log = logging.getLogger("exchange.database")
_OWN_CONNECTION = "exchange.own_connection"  # Session.info key: the connection the session closes


class Database:
    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.writer_lock = WriterLock(None)
        self._bound: Connection | None = None
        self._sessions = sessionmaker(expire_on_commit=False)
        self.session = scoped_session(self._new_session)
        event.listen(self._sessions, "after_commit", lambda _session: outages.note_committed())

    def init_app(self, app: Flask) -> None:
        self.open(app.config["DATABASE_URL"])
        app.teardown_appcontext(self.end_session)

    def open(self, url: str) -> None:
        self.engine = make_engine(url)
        sqlite = self.engine.dialect.name == "sqlite"
        self.writer_lock = WriterLock(self.engine.url.database if sqlite else None, enabled=sqlite)
        self.session.remove()

    def _new_session(self) -> Session:
        if self._bound is not None:
            # The test's connection, in the test's transaction: each unit of work a SAVEPOINT.
            return self._sessions(bind=self._bound, join_transaction_mode="create_savepoint")
        connection = self.engine.connect()
        session = self._sessions(bind=connection)
        session.info[_OWN_CONNECTION] = connection
        return session

    def use_for_this_thread(self, engine: Engine) -> None:
        """This thread's session, until it ends, on a connection of `engine` instead of the
        app's pool (the webhook thread on SQLite: see `exchange.webhooks.worker`)."""
        self.session.remove()
        connection = engine.connect()
        session = self._sessions(bind=connection)
        session.info[_OWN_CONNECTION] = connection
        self.session.registry.set(session)

    @contextmanager
    def bound_to(self, connection: Connection) -> Iterator[None]:
        """Sessions on `connection` while the block runs (the tests' rolled-back transaction)."""
        self.session.remove()
        self._bound = connection
        try:
            yield
        finally:
            self.session.remove()
            self._bound = None

    def end_session(self, _exc: BaseException | None = None) -> None:
        """End this request's session and give its connection back. Never raises."""
        if not self.session.registry.has():
            return
        session = self.session()
        connection = session.info.get(_OWN_CONNECTION)
        try:
            self.session.remove()
            if connection is not None:
                connection.close()
        except Exception as error:
            # The connection died under the session (its rollback failed): throw it away, and
            # the session with it, so the next request on this thread starts clean.
            kind = outages.database_outage(error)
            if kind:
                outages.note_failure(kind, error)
            else:
                log.exception("could not end the request's session; its connection is dropped")
            _invalidate(connection)
            self.session.registry.clear()

    def drop_connections(self) -> None:
        """Close this request's connection and every pooled one of this process: the next
        request opens fresh ones (on SQLite, writable again once the files are)."""
        if self.session.registry.has():
            session = self.session()
            _invalidate(session.info.get(_OWN_CONNECTION))
            with contextlib.suppress(Exception):  # the connection is dead already: dropping it is the point
                session.invalidate()
        self.engine.dispose()


def _invalidate(connection: Connection | None) -> None:
    if connection is None:
        return
    with contextlib.suppress(Exception):  # the connection is dead already: dropping it is the point
        connection.invalidate()
