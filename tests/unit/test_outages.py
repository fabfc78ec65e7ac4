"""Which database errors are outages (503, connections dropped) and which are bugs (500),
with errors the drivers really raise wherever they can be provoked here."""

import logging
import sqlite3

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy import exc as sa_exc

from exchange.db import outages
from exchange.db.outages import NOT_WRITABLE, UNAVAILABLE, database_outage
from tests.e2e.conftest import free_port


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "db.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x INTEGER UNIQUE)")
        conn.execute("INSERT INTO t VALUES (1)")
    return path


def _raised(call) -> BaseException:
    with pytest.raises(Exception) as caught:
        call()
    return caught.value


def test_writing_a_database_sqlite_opened_read_only_is_not_writable(database):
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    error = _raised(lambda: conn.execute("INSERT INTO t VALUES (2)"))
    assert "readonly" in str(error) and database_outage(error) == NOT_WRITABLE


def test_the_same_error_through_sqlalchemy_is_not_writable_too(database):
    engine = create_engine(f"sqlite:///file:{database}?mode=ro&uri=true")
    with engine.connect() as conn:
        error = _raised(lambda: conn.execute(text("INSERT INTO t VALUES (2)")))
    assert isinstance(error, sa_exc.OperationalError) and database_outage(error) == NOT_WRITABLE


def test_a_database_file_that_cannot_be_opened_is_unavailable(tmp_path):
    error = _raised(lambda: sqlite3.connect(tmp_path / "no-such-dir" / "db.sqlite3"))
    assert database_outage(error) == UNAVAILABLE


def test_a_postgresql_server_that_refuses_connections_is_unavailable():
    error = _raised(lambda: psycopg.connect(f"host=127.0.0.1 port={free_port()} user=postgres connect_timeout=2"))
    assert database_outage(error) == UNAVAILABLE


@pytest.mark.parametrize("error,kind", [
    (psycopg.errors.AdminShutdown("terminating connection due to administrator command"), UNAVAILABLE),
    (psycopg.errors.CannotConnectNow("the database system is starting up"), UNAVAILABLE),
    (psycopg.errors.TooManyConnections("too many clients"), UNAVAILABLE),
    (psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly"), UNAVAILABLE),
    (psycopg.errors.ReadOnlySqlTransaction("cannot execute INSERT in a read-only transaction"), NOT_WRITABLE),
    (psycopg.errors.DiskFull("could not extend file"), NOT_WRITABLE),
    (sa_exc.TimeoutError("QueuePool limit reached"), UNAVAILABLE),
])
def test_postgresql_outages(error, kind):
    assert database_outage(error) == kind


@pytest.mark.parametrize("error", [
    psycopg.errors.UniqueViolation("duplicate key"), psycopg.errors.QueryCanceled("statement timeout"),
    psycopg.errors.DeadlockDetected("deadlock detected"), psycopg.errors.PipelineAborted("pipeline aborted"),
    sa_exc.InvalidRequestError("a programming error"), RuntimeError("not the database"),
])
def test_what_is_not_an_outage_stays_a_bug(error):
    assert database_outage(error) is None


def test_sqlite_constraint_and_syntax_errors_are_not_outages(database):
    conn = sqlite3.connect(database)
    assert database_outage(_raised(lambda: conn.execute("INSERT INTO t VALUES (1)"))) is None
    assert database_outage(_raised(lambda: conn.execute("SELEKT 1"))) is None


def test_an_outage_hidden_by_a_failure_while_handling_it_is_found(database):
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)

    def write_then_fail_to_clean_up():
        try:
            conn.execute("INSERT INTO t VALUES (2)")
        except sqlite3.Error:
            # `from None`: the database error is left only in __context__, the hidden cause under test.
            raise RuntimeError("cleanup failed") from None

    assert database_outage(_raised(write_then_fail_to_clean_up)) == NOT_WRITABLE


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_an_outage_is_logged_once_and_its_end_once(monkeypatch):
    monkeypatch.setattr(outages, "seen", outages._Process())
    level, lines = outages.log.level, _Lines()
    outages.log.setLevel(logging.INFO)
    outages.log.addHandler(lines)
    try:
        error = psycopg.errors.ReadOnlySqlTransaction("read-only")
        for _ in range(50):
            outages.note_failure(NOT_WRITABLE, error)
        assert outages.seen.writable is False
        for _ in range(5):
            outages.note_committed()
        assert outages.seen.writable is True
    finally:
        outages.log.removeHandler(lines)
        outages.log.setLevel(level)
    assert lines.messages == ["database cannot be written; writes answer 503 until it can",
                              "database writable again"]
