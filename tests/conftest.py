"""Test wiring.

Every test runs inside a transaction that is rolled back at the end (SQLAlchemy's "join an
external transaction" recipe), so services may commit freely and the database stays clean.
`pytest` uses a fresh SQLite file; `pytest --db-url postgresql+psycopg://...` a fresh PostgreSQL
database created next to the one named (and dropped afterwards).
"""

from __future__ import annotations

import os

os.environ["EXCHANGE_ENV"] = "testing"
os.environ.pop("EXCHANGE_NOW", None)

import pytest  # noqa: E402

from exchange import clock, create_app  # noqa: E402
from exchange.extensions import db  # noqa: E402
from tests.databases import fresh_database  # noqa: E402


def pytest_addoption(parser):
    parser.addoption("--db-url", default=None,
                     help="PostgreSQL server URL to test against (default: a SQLite file)")


def pytest_report_header(config):
    return f"database: {config.getoption('--db-url') or 'sqlite (temporary file)'}"


@pytest.fixture(scope="session")
def base_db_url(pytestconfig):
    return pytestconfig.getoption("--db-url")


@pytest.fixture(scope="session")
def db_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("db")


@pytest.fixture(scope="session")
def database_url(base_db_url, db_dir):
    with fresh_database(base_db_url, db_dir) as url:
        yield url


@pytest.fixture(scope="session")
def app(database_url, db_dir):
    # One origin may call the API from a browser (CORS): tests/api/test_delivery.py.
    app = create_app({"DATABASE_URL": database_url, "PUBLIC_URL": "http://exchange.test",
                      "CORS_ORIGINS": ["https://till.partner.example"],
                      "SIGNING_KEY_DIR": str(db_dir / "signing-keys")})
    yield app
    db.engine.dispose()


@pytest.fixture(autouse=True)
def _real_clock():
    clock.set_now(None)
    yield
    clock.set_now(None)


@pytest.fixture
def connection(app):
    """The test's own connection; everything done on it is rolled back afterwards."""
    with app.app_context():
        conn = db.engine.connect()
        outer = conn.begin()
        try:
            with db.bound_to(conn):  # every unit of work a SAVEPOINT of `outer`
                yield conn
        finally:
            outer.rollback()
            conn.close()


@pytest.fixture
def client(app, connection):
    return app.test_client()


@pytest.fixture
def session(connection):
    return db.session


from tests.helpers import api, merchant, other_merchant, world  # noqa: E402,F401  (shared fixtures)
