"""Extensions, created unbound; `create_app()` binds them."""

from __future__ import annotations

import fcntl
import http
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from flask_limiter.util import get_remote_address
from flask_smorest import Api as _SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.utils import prepare_response
import marshmallow as ma
import psycopg
from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import scoped_session, sessionmaker

from . import outages
from .openapi import CommonErrorsPlugin
from .problems import PROBLEM_JSON, ProblemSchema, handle_unexpected, problem
from .ratelimit_store import Limiter

log = logging.getLogger("exchange.database")


class Database:
    """One engine and one request-scoped session for the whole app.

    SQLite is put in WAL mode with foreign keys on, and the driver's own transaction handling is
    switched off so that SQLAlchemy emits BEGIN itself: that makes SAVEPOINT work (tests) and
    lets a write transaction ask for `BEGIN IMMEDIATE` (see `write_transaction`).

    An outage of the database (see `exchange.outages`) answers 503 problem+json, drops this
    process's pooled connections and never escapes the request: not even from the teardown,
    where rolling back on a dead connection raises (gunicorn would answer its HTML 500).
    """

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self._sessions = sessionmaker(expire_on_commit=False)
        self.session = scoped_session(self._sessions)
        self.writer_lock = WriterLock(None)
        event.listen(self._sessions, "after_commit", lambda _session: outages.note_committed())

    def init_app(self, app: Flask) -> None:
        self.engine = make_engine(app.config["DATABASE_URL"])
        self.writer_lock = WriterLock(self.engine.url.database if self.engine.dialect.name == "sqlite" else None,
                                      enabled=self.engine.dialect.name == "sqlite")
        self.session.remove()
        self.session.configure(bind=self.engine)
        app.teardown_appcontext(self._end_session)
        for error_class in (sa_exc.SQLAlchemyError, sqlite3.Error, psycopg.Error):
            app.register_error_handler(error_class, self._answer_database_error)

    def _end_session(self, _exc: BaseException | None = None) -> None:
        try:
            self.session.remove()
        except Exception as error:
            # The connection died under the session (its rollback failed): throw it away, and
            # the session with it, so the next request on this thread starts clean.
            kind = outages.database_outage(error)
            if kind:
                outages.note_failure(kind, error)
            else:
                log.exception("could not end the request's session; its connection is dropped")
            self._invalidate_session()
            self.session.registry.clear()

    def _answer_database_error(self, error: Exception):
        kind = outages.database_outage(error)
        if kind is None:
            return handle_unexpected(error)
        outages.note_failure(kind, error)
        self.drop_connections()
        return problem(503, kind, "Service Unavailable", outages.DETAIL[kind],
                       retry_after=outages.RETRY_AFTER_SECONDS)

    def drop_connections(self) -> None:
        """Close this request's connection and every pooled one of this process: the next
        request opens fresh ones (on SQLite, writable again once the files are)."""
        self._invalidate_session()
        self.engine.dispose()

    def _invalidate_session(self) -> None:
        if not self.session.registry.has():
            return
        try:
            self.session().invalidate()
        except Exception:  # noqa: S110 - the connection is dead already; dropping it is the point
            pass


class WriterLock:
    """SQLite's single writer, queued in the open instead of in SQLite's busy handler.

    SQLite lets one connection write at a time; a `BEGIN IMMEDIATE` that finds the lock taken
    sleeps in the busy handler and polls (1, 2, 5, … up to 100 ms between tries), so under many
    concurrent writers some wait far longer than the lock was held: the p99 tail. Here a writer
    first takes a thread lock (the writers of this process) and then an exclusive `flock` on a
    file beside the database (the other server processes), and is woken the moment the previous
    writer commits. This is only a queue in front of SQLite's own lock, which still guards the
    database against every other writer (the CLI, a migration). Reentrant within a thread.
    PostgreSQL needs none of this: `enabled` is false there.
    """

    def __init__(self, database: str | None, *, enabled: bool = False):
        self.enabled = enabled
        in_memory = not database or database == ":memory:" or database.startswith("file::memory:")
        self._path = None if in_memory else f"{database}.writer-lock"
        self._thread_lock = threading.RLock()
        self._depth = threading.local()
        self._file = None
        self._file_pid = None

    @contextmanager
    def held(self) -> Iterator[None]:
        if not self.enabled:
            yield
            return
        with self._thread_lock:
            depth = getattr(self._depth, "n", 0)
            self._depth.n = depth + 1
            locked_file = depth == 0 and self._path is not None
            try:
                if locked_file:
                    fcntl.flock(self._lock_file(), fcntl.LOCK_EX)
                yield
            finally:
                if locked_file:
                    fcntl.flock(self._file, fcntl.LOCK_UN)
                self._depth.n = depth

    def _lock_file(self):
        # A forked server process must not share its parent's open file (flock locks belong to
        # the open file, so parent and child would hold the lock together).
        if self._file is None or self._file_pid != os.getpid():
            self._file = open(self._path, "a")
            self._file_pid = os.getpid()
        return self._file


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
    _watch_outages(engine)
    return engine


def _watch_outages(engine: Engine) -> None:
    @event.listens_for(engine, "handle_error")
    def _outage_is_a_disconnect(context):
        # SQLAlchemy then invalidates the connection and the pool (in requests, the batch
        # worker and the CLI alike): a SQLite connection opened while the files were read-only
        # stays read-only, so it must not be handed out again.
        kind = outages.database_outage(context.original_exception)
        if kind:
            context.is_disconnect = True
            if not context.is_pre_ping:  # a pooled connection found dead is simply replaced
                outages.note_failure(kind, context.original_exception)

    @event.listens_for(engine, "connect")
    def _connected(_dbapi_connection, _record):
        outages.note_connected()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # 64 MiB of page cache (the default is 2 MiB): unique-code and foreign-key indexes of
        # large coupon tables stay in memory.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A deferred transaction that later writes fails with "database is locked" under
        # concurrency in WAL mode; writers ask for IMMEDIATE up front.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


class Api(_SmorestApi):
    """flask-smorest, documenting every error response as problem+json (SPEC §4.7)."""

    ERROR_SCHEMA = ProblemSchema

    def init_app(self, app, *args, **kwargs):
        # Query strings are held to the same rule as bodies: an unknown parameter (a misspelt
        # `?rolee=distributor`) is refused with 422, as the OpenAPI document says
        # (`additionalProperties: false`), instead of being silently ignored.
        parser = SmorestBlueprint.ARGUMENTS_PARSER
        parser.DEFAULT_UNKNOWN_BY_LOCATION = {**parser.DEFAULT_UNKNOWN_BY_LOCATION, "query": ma.RAISE}
        # JSON nested thousands deep (a few KB: `[[[[…`) makes the decoder recurse past Python's
        # limit; that is malformed input (400), not a server error. Routes hold this parser
        # instance since import, so the hook goes on the instance.
        if not getattr(parser, "_depth_guarded", False):
            raw_load_json = parser._raw_load_json

            def _raw_load_json(req):
                try:
                    return raw_load_json(req)
                except RecursionError:
                    raise json.JSONDecodeError("JSON nested too deeply", "[", 0) from None

            parser._raw_load_json, parser._depth_guarded = _raw_load_json, True
        super().init_app(app, *args, **kwargs)

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            content_type = self.DEFAULT_RESPONSE_CONTENT_TYPE
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                content_type = PROBLEM_JSON
            prepare_response(response, self.spec, content_type)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error (RFC 9457 problem details)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def _rate_limit_key() -> str:
    return get_remote_address() or "unknown"


db = Database()
api = Api(spec_kwargs={"extra_plugins": [CommonErrorsPlugin()]})
limiter = Limiter(key_func=_rate_limit_key, headers_enabled=True)
