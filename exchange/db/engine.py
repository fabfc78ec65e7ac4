"""The engine: SQLite through SQLAlchemy's documented pysqlite recipe, PostgreSQL through psycopg 3.

On SQLite the driver's own transaction handling is switched off (`isolation_level = None`) and
SQLAlchemy emits BEGIN itself, from the `begin` event (the recipe "Serializable isolation /
Savepoints / Transactional DDL" of SQLAlchemy's SQLite dialect documentation): SAVEPOINT then
works (the tests' transactions), and a unit of work asks for `BEGIN IMMEDIATE` (SQLite's write
lock taken up front) by setting `SQLITE_BEGIN` in the connection's `info` before it begins.
"""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event

from . import outages

SQLITE_BEGIN = "sqlite_begin"  # Connection.info key: the mode of the next BEGIN (DEFERRED by default)


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
        conn.exec_driver_sql(f"BEGIN {conn.info.pop(SQLITE_BEGIN, 'DEFERRED')}")
