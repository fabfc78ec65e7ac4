"""The database going away, or becoming unwritable, answered as 503 and healed by itself
(SPEC §4.12: an outage of the database answers 503 problem+json and heals by itself).

`database_outage(error)` tells an outage from a bug: it names the problem code of a database
that cannot be reached (PostgreSQL stopped or restarting, a connection cut, SQLite unable to
open its file or locked for longer than its busy timeout) or cannot be written (SQLite files
read-only or a disk full, a PostgreSQL standby). Such a request answers 503 with Retry-After,
and its process drops its pooled connections: SQLite opens a file it may not write *read-only*
and stays so for the connection's life, so connections opened during a read-only episode would
otherwise refuse every write long after the files are writable again.

What this process last saw is kept in two flags for `/healthz`, which must stay as cheap as it
is (the redemption benchmark's denominator): the failures set them and the next success (a
commit, a new connection) clears them, so the health answer costs no extra query.
"""

from __future__ import annotations

import logging
import os
import sqlite3

import psycopg
from sqlalchemy import exc as sa_exc

log = logging.getLogger("exchange.database")

UNAVAILABLE = "database_unavailable"
NOT_WRITABLE = "database_not_writable"
RETRY_AFTER_SECONDS = 5
DETAIL = {
    UNAVAILABLE: "The database cannot be reached just now; nothing was changed. Retry after the "
                 "number of seconds in Retry-After.",
    NOT_WRITABLE: "The database cannot be written just now; nothing was changed. Retry after the "
                  "number of seconds in Retry-After.",
}

# SQLite's primary result codes (sqlite3.h).
_SQLITE = {5: UNAVAILABLE,    # SQLITE_BUSY: still locked after the busy timeout
           6: UNAVAILABLE,    # SQLITE_LOCKED
           8: NOT_WRITABLE,   # SQLITE_READONLY: "attempt to write a readonly database"
           10: NOT_WRITABLE,  # SQLITE_IOERR: "disk I/O error", as when the files turn unwritable
           13: NOT_WRITABLE,  # SQLITE_FULL
           14: UNAVAILABLE}   # SQLITE_CANTOPEN
# PostgreSQL SQLSTATEs: connection exceptions (08), the server shutting down or starting up
# (57P01–57P03), out of resources (53); a read-only transaction (a standby) and a full disk.
_POSTGRESQL_NOT_WRITABLE = {"25006", "53100"}


class _Process:
    """What this process last saw of the database (read by `/healthz`)."""

    writable = True
    reachable = True


seen = _Process()


def database_outage(error: BaseException) -> str | None:
    """The problem code for an outage of the database anywhere in `error`'s chain, else None."""
    for link in _chain(error):
        if isinstance(link, sa_exc.DBAPIError):
            kind = _driver_outage(link.orig)
            if kind or link.connection_invalidated:
                return kind or UNAVAILABLE
        elif isinstance(link, sa_exc.TimeoutError):
            return UNAVAILABLE  # no pooled connection came free in time
        else:
            kind = _driver_outage(link)
            if kind:
                return kind
    return None


def _chain(error: BaseException, depth: int = 5):
    """`error` and what it was raised from or during (a failed rollback hides the failure)."""
    seen_ids = set()
    while error is not None and depth and id(error) not in seen_ids:
        seen_ids.add(id(error))
        yield error
        error, depth = error.__cause__ or error.__context__, depth - 1


def _driver_outage(error: BaseException | None) -> str | None:
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        return None if code is None else _SQLITE.get(code & 0xFF)
    if isinstance(error, psycopg.Error):
        state = error.sqlstate or ""
        if state in _POSTGRESQL_NOT_WRITABLE:
            return NOT_WRITABLE
        if isinstance(error, psycopg.errors.PipelineAborted):
            return None  # a statement before it failed: that one is the error
        if isinstance(error, psycopg.OperationalError) and (
                not state or state.startswith(("08", "53")) or state in ("57P01", "57P02", "57P03")):
            return UNAVAILABLE
    return None


def note_failure(kind: str, error: BaseException) -> None:
    """An outage was met: say so in the log once (not once per request) and in the flags."""
    if kind == NOT_WRITABLE and seen.writable:
        seen.writable = False
        log.warning("database cannot be written; writes answer 503 until it can",
                    extra={"error": summary(error), "pid": os.getpid()})
    elif kind == UNAVAILABLE and seen.reachable:
        seen.reachable = False
        log.warning("database unreachable; requests answer 503 until it is back",
                    extra={"error": summary(error), "pid": os.getpid()})


def note_committed() -> None:
    """A write transaction committed: the database is reachable and writable."""
    if not seen.writable:
        seen.writable = True
        log.info("database writable again", extra={"pid": os.getpid()})
    note_connected()


def note_connected() -> None:
    if not seen.reachable:
        seen.reachable = True
        log.info("database reachable again", extra={"pid": os.getpid()})


def summary(error: BaseException) -> str:
    """The driver's own message, first line: no SQL and no parameters (they may hold keys)."""
    orig = getattr(error, "orig", None) or error
    return f"{type(orig).__name__}: {str(orig).strip().splitlines()[0] if str(orig).strip() else ''}"
