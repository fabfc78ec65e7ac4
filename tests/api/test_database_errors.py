"""The database extension's answers to a failing database, on an app and a `Database` of the
test's own (the suite's shared one sits inside each test's rolled-back transaction): an outage
is a 503 problem and drops the pooled connections, a bug stays a 500, and ending a request
whose connection died never raises. Real outages through gunicorn: tests/e2e/test_database_outage.py
and test_sqlite_read_only.py."""

import sqlite3

import psycopg
import pytest
from flask import Flask
from sqlalchemy import text

from exchange.db.database import Database
from exchange.http.problems import register_database_errors
from tests.helpers import assert_problem


@pytest.fixture
def own(tmp_path):
    path = tmp_path / "own.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x INTEGER UNIQUE)")
        conn.execute("INSERT INTO t VALUES (1)")
    database, app = Database(), Flask(__name__)
    app.config["DATABASE_URL"] = f"sqlite:///{path}"
    database.init_app(app)
    register_database_errors(app, database)

    @app.get("/write-read-only")
    def write_read_only():
        database.session.execute(text("SELECT 1"))  # the request holds a pooled connection
        sqlite3.connect(f"file:{path}?mode=ro", uri=True).execute("INSERT INTO t VALUES (2)")

    @app.get("/duplicate")
    def duplicate():
        database.session.execute(text("INSERT INTO t VALUES (1)"))

    @app.get("/ping")
    def ping():
        return {"one": database.session.execute(text("SELECT 1")).scalar()}

    yield database, app
    database.engine.dispose()


def test_an_unwritable_database_is_a_503_and_the_pool_is_dropped(own):
    database, app = own
    pool = database.engine.pool
    r = app.test_client().get("/write-read-only")
    assert_problem(r, 503, "database_not_writable")
    assert int(r.headers["Retry-After"]) > 0
    assert database.engine.pool is not pool, "the worker kept its connections"
    assert app.test_client().get("/ping").get_json() == {"one": 1}


def test_a_database_error_that_is_no_outage_stays_a_500(own):
    database, app = own
    pool = database.engine.pool
    assert_problem(app.test_client().get("/duplicate"), 500, "internal_error")
    assert database.engine.pool is pool


def test_ending_a_request_whose_connection_died_never_raises(own, monkeypatch):
    database, app = own
    with app.app_context():
        session = database.session()
        session.execute(text("SELECT 1"))

        def rollback_on_a_dead_connection():
            raise psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly")

        monkeypatch.setattr(session, "close", rollback_on_a_dead_connection)
    # The app context ended above and its teardown ran: no exception, and the broken session is
    # gone, so the next request on this thread starts clean.
    assert not database.session.registry.has()
    assert app.test_client().get("/ping").get_json() == {"one": 1}
