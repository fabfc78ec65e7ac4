"""The money path's statements: compiled once per database, run straight on the driver's cursor.

A redemption runs about ten small statements, hundreds of times a second per server. Through
`Session.execute` each one costs some 0.2 ms of Python (ORM execute, cache key, execution
context, result metadata, events) against some 0.03 ms on the driver's cursor: more than
SQLite's or PostgreSQL's own work on such a statement (measured: docs/benchmarks.md).

So a `Compiled` statement is still written as SQLAlchemy Core and compiled by SQLAlchemy (one
schema, one dialect's SQL), and its parameters and results still go through SQLAlchemy's own
column types (`UTCDateTime`, JSON), through their public processors; only the per-call machinery
is skipped. It runs on the cursor of the session's own connection, inside the unit of work's
transaction, after the session's pending changes are flushed. Used where the benchmark shows it
pays: authentication (every request) and the redemption's own statements (idempotency, limits,
ledger, audit). Everything else uses the session as usual.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert
from sqlalchemy.orm import Session, scoped_session


@dataclass(frozen=True, slots=True)
class _Form:
    """A statement as one dialect runs it."""

    sql: str
    names: tuple[str, ...]              # bind names, in the order positional drivers take them
    positional: bool
    defaults: dict[str, Any]            # values bound in the statement itself (`uses_left > 0`)
    convert_in: tuple[Any, ...]         # per bind name: the type's bind processor or None
    row: type | None                    # a named tuple of the result columns, if any
    convert_out: tuple[Any, ...]        # per result column: the type's result processor or None


class Compiled:
    """A Core statement to run many times: `first`, `all`, `scalar`, `count`, `run`, `run_many`."""

    def __init__(self, statement, *, per_dialect: dict[str, Any] | None = None):
        self._statements = per_dialect or {}
        self._default = statement
        self._forms: dict[str, _Form] = {}

    @classmethod
    def per_dialect(cls, statements: dict[str, Any]) -> Compiled:
        """One statement per dialect name (e.g. each dialect's own `INSERT … ON CONFLICT`)."""
        return cls(None, per_dialect=statements)

    def run(self, session: Session, params: dict[str, Any] | None = None) -> None:
        """Execute once, for its effect alone (in a `pipelined` block it is only queued)."""
        form, cursor = self._form_and_cursor(session)
        cursor.execute(form.sql, self._bind(form, params or {}))

    def count(self, session: Session, params: dict[str, Any] | None = None) -> int:
        """Execute once; how many rows it matched, as the database answered it."""
        form, cursor = self._form_and_cursor(session)
        cursor.execute(form.sql, self._bind(form, params or {}))
        pipeline = _pipeline_of(session)
        if pipeline is not None:
            # A queued statement's row count reads -1 (which is true!) until its answer is in.
            pipeline.sync()
        return cursor.rowcount

    def run_many(self, session: Session, params: list[dict[str, Any]]) -> None:
        form, cursor = self._form_and_cursor(session)
        cursor.executemany(form.sql, [self._bind(form, p) for p in params])

    def first(self, session: Session, params: dict[str, Any] | None = None):
        """The first result row as a named tuple, or None."""
        form, cursor = self._form_and_cursor(session)
        cursor.execute(form.sql, self._bind(form, params or {}))
        raw = cursor.fetchone()
        return None if raw is None else self._row(form, raw)

    def all(self, session: Session, params: dict[str, Any] | None = None) -> list:
        """Every result row, as named tuples."""
        form, cursor = self._form_and_cursor(session)
        cursor.execute(form.sql, self._bind(form, params or {}))
        return [self._row(form, raw) for raw in cursor.fetchall()]

    def scalar(self, session: Session, params: dict[str, Any] | None = None):
        row = self.first(session, params)
        return None if row is None else row[0]

    def _form_and_cursor(self, session: Session):
        # The ORM's pending changes go first, so a compiled statement sees what the session
        # holds (and a row the session adds is never written after one that refers to it).
        _session(session).flush()
        dialect, driver_connection = _in_transaction(session)
        form = self._forms.get(dialect.name) or self._compile(dialect)
        return form, driver_connection.cursor()

    def _compile(self, dialect) -> _Form:
        statement = self._statements.get(dialect.name, self._default)
        compiled = statement.compile(dialect=dialect)
        binds = {name: bind for bind, name in compiled.bind_names.items()}
        positional = bool(compiled.positional)
        names = tuple(compiled.positiontup) if positional else tuple(binds)
        columns = list(getattr(statement, "exported_columns", ()))  # a SELECT's columns, or RETURNING's
        form = _Form(
            sql=compiled.string, names=names, positional=positional,
            defaults={name: bind.effective_value for name, bind in binds.items() if not bind.required},
            convert_in=tuple(bind_processor(binds[name].type, dialect) for name in names),
            row=namedtuple("Row", [c.key for c in columns]) if columns else None,
            convert_out=tuple(result_processor(c.type, dialect) for c in columns))
        self._forms[dialect.name] = form
        return form

    @staticmethod
    def _bind(form: _Form, params: dict[str, Any]):
        values = {**form.defaults, **params} if form.defaults else params
        # A parameter the caller left out raises KeyError naming it.
        converted = [values[name] if convert is None else convert(values[name])
                     for name, convert in zip(form.names, form.convert_in, strict=True)]
        return tuple(converted) if form.positional else dict(zip(form.names, converted, strict=True))

    @staticmethod
    def _row(form: _Form, raw):
        return form.row._make(value if convert is None else convert(value)
                              for convert, value in zip(form.convert_out, raw, strict=True))


def bind_processor(type_, dialect):
    """What SQLAlchemy does to a value of `type_` before the driver gets it (public API: the
    type's implementation for the dialect), or None."""
    return type_.dialect_impl(dialect).bind_processor(dialect)


def result_processor(type_, dialect):
    """What SQLAlchemy does to a value of `type_` the driver returns, or None."""
    return type_.dialect_impl(dialect).result_processor(dialect, None)


def _in_transaction(session: Session):
    """The dialect and the driver's connection of the session's transaction (beginning one if
    none is open). Remembered for the transaction: asking the session costs more than a statement."""
    session = _session(session)
    transaction = session.get_transaction()
    known = session.info.get(_CONNECTION)
    if transaction is not None and known is not None and known[0] is transaction:
        return known[1], known[2]
    connection = session.connection()
    known = (session.get_transaction(), connection.dialect, connection.connection.driver_connection)
    session.info[_CONNECTION] = known
    return known[1], known[2]


@contextmanager
def pipelined(session: Session) -> Iterator[None]:
    """Statements in this block go to PostgreSQL together, without waiting for each answer,
    up to the first one whose rows are read (`first`, `scalar`, `count`): psycopg's
    pipeline mode, one round trip for a run of INSERTs. An error in any of them surfaces at that
    read or at the end of the block, and fails the transaction as usual. SQLite runs each
    statement as it comes (there is no round trip to save)."""
    dialect, driver_connection = _in_transaction(session)
    if dialect.name != "postgresql":
        yield
        return
    with driver_connection.pipeline() as pipeline:
        _session(session).info[_PIPELINE] = pipeline
        try:
            yield
        finally:
            del _session(session).info[_PIPELINE]


def _pipeline_of(session: Session):
    return _session(session).info.get(_PIPELINE)


def _session(session) -> Session:
    return session() if isinstance(session, scoped_session) else session


_CONNECTION = "exchange.compiled.connection"
_PIPELINE = "exchange.compiled.pipeline"


def insert_row(table) -> Compiled:
    """INSERT of one row of `table`, every column but `id` given, RETURNING the new `id`."""
    return Compiled(insert(table).values(row_values(table)).returning(table.c.id))


def row_values(table) -> dict:
    """A parameter for every column of `table` but `id`: an INSERT compiled with all of them,
    so one compiled form serves every call."""
    return {c.key: bindparam(c.key) for c in table.columns if c.key != "id"}
