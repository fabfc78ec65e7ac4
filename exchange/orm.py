"""Declarative base, column types and the one way services open a transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import DateTime, Engine, MetaData, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Session

from . import clock
from .extensions import db

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Timezone-aware instants in, timezone-aware UTC out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; attach a timezone")
        value = value.astimezone(clock.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=clock.UTC)
        return value.astimezone(clock.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


@contextmanager
def transaction() -> Iterator[Session]:
    """Run a unit of work: commit on success, roll back on any exception.

    On SQLite the write lock is taken at BEGIN (IMMEDIATE), so concurrent writers queue; a
    deferred transaction that reads and then writes would instead fail at once with "database
    is locked" when another writer got in between. The server's own writers queue on
    `db.writer_lock` first (see `WriterLock`). PostgreSQL ignores both.
    """
    session = db.session()
    bind = session.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite and isinstance(bind, Engine):
        # The server's sessions. A session bound to a connection (the tests' outer transaction,
        # rolled back after each test) cannot restart its transaction on the driver: below.
        with _sqlite_writer(session):
            yield session
        return
    if sqlite and session.in_transaction():
        # Close whatever read-only work (authentication, lookups) ran before this unit: its
        # deferred transaction cannot become the writer. On PostgreSQL that work simply joins
        # this unit (READ COMMITTED: each statement sees the latest commits), which saves a
        # ROLLBACK, a BEGIN and a second connection checkout (and its ping) per request.
        session.rollback()
    with db.writer_lock.held():
        if sqlite:
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def _sqlite_writer(session: Session) -> Iterator[None]:
    """The request's SQLite connection turned writer, under the writer lock.

    The connection's read transaction (authentication, lookups) ends and a `BEGIN IMMEDIATE`
    starts on the driver itself, and the driver commits inside the lock; SQLAlchemy's own
    commit afterwards finds nothing left to commit and only returns the connection. Going
    through the session instead (roll back, return the connection, check it out again with
    other options, begin, commit) cost a redemption a quarter of its time, most of it while
    holding the one writer lock every other writer waits on.
    """
    driver = session.connection().connection.driver_connection
    try:
        with db.writer_lock.held():
            driver.rollback()  # the read snapshot: what is written must be read under the lock
            session.expire_all()  # so must anything loaded before it
            driver.execute("BEGIN IMMEDIATE")
            try:
                yield
                session.flush()
                driver.commit()
            except BaseException:
                driver.rollback()
                raise
    except BaseException:
        session.rollback()
        raise
    session.commit()


def append_only_ddl(dialect: str, table: str) -> list[str]:
    """Triggers that make the database itself refuse to change or remove a row of `table`
    (the ledger, closed settlements: SPEC §4.3–4.4). For migrations."""
    if dialect == "sqlite":
        return [f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END" for action in ("UPDATE", "DELETE")]
    return [f"""CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION '{table} is append-only'; END $$""",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"]


def drop_append_only_ddl(dialect: str, table: str) -> list[str]:
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_{action}" for action in ("update", "delete")]
    return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"DROP FUNCTION IF EXISTS {table}_append_only()"]
