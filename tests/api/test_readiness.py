"""`/readyz` asks the database for a write and its schema version, the key ring for a signing key
and Redis for an answer; not ready is a 503 problem saying which check failed, and it recovers
by itself when the cause is gone."""

import pytest
from sqlalchemy import text

from exchange.db import outages
from exchange.extensions import limiter
from tests.helpers import assert_problem


@pytest.fixture(autouse=True)
def fresh_flags(monkeypatch):
    monkeypatch.setattr(outages, "seen", outages._Process())


def test_ready_when_all_is_well(api):
    r = api.get("/readyz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ready", "database": "writable", "migrations": "at_head",
                            "signing_key": "loaded", "rate_limits": "per_process"}


@pytest.fixture
def read_only_database(app, database_url, monkeypatch):
    """The same database through connections that may not write: SQLite opened read-only,
    PostgreSQL's sessions read-only as on a standby. (The suite's own connection sits inside
    each test's rolled-back transaction, and a refused write would invalidate it.)"""
    from flask import Flask

    from exchange.db.database import Database
    from exchange.db.writer_lock import WriterLock
    from exchange.http import readiness

    if database_url.startswith("sqlite"):
        url = f"sqlite:///file:{database_url.removeprefix('sqlite:///')}?mode=ro&uri=true"
    else:
        url = database_url + ("&" if "?" in database_url else "?") + "options=-c%20default_transaction_read_only%3Don"
    own = Database()
    holder = Flask(__name__)
    holder.config["DATABASE_URL"] = url
    own.init_app(holder)
    own.writer_lock = WriterLock(None)  # nothing to queue behind: it cannot write
    monkeypatch.setattr(readiness, "db", own)
    yield own
    own.session.remove()
    own.engine.dispose()


def test_not_ready_while_the_database_refuses_writes_and_ready_again_after(api, read_only_database, monkeypatch):
    from exchange.extensions import db
    from exchange.http import readiness

    r = api.get("/readyz")
    body = assert_problem(r, 503, "not_ready")
    assert body["checks"]["database"] == "not_writable"
    assert r.headers["Retry-After"] == "5"
    assert not outages.seen.writable
    monkeypatch.setattr(readiness, "db", db)  # writable connections again
    r = api.get("/readyz")
    assert r.status_code == 200 and r.get_json()["database"] == "writable"
    assert outages.seen.writable


def test_not_ready_while_a_migration_is_missing(api, connection):
    step = connection.begin_nested()
    connection.execute(text("UPDATE alembic_version SET version_num = '0006'"))
    body = assert_problem(api.get("/readyz"), 503, "not_ready")
    assert body["checks"]["migrations"] == "behind"
    assert "migrations behind" in body["detail"]
    step.rollback()
    assert api.get("/readyz").get_json()["migrations"] == "at_head"


def test_a_database_newer_than_the_code_is_not_ready_either(api, connection):
    step = connection.begin_nested()
    connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    assert assert_problem(api.get("/readyz"), 503, "not_ready")["checks"]["migrations"] == "ahead"
    step.rollback()


def test_not_ready_without_a_signing_key(api, app, tmp_path, monkeypatch):
    from exchange.coupons.keys import KeyRing

    monkeypatch.setitem(app.extensions, "keyring", KeyRing(tmp_path / "no-keys"))
    body = assert_problem(api.get("/readyz"), 503, "not_ready")
    assert body["checks"]["signing_key"] == "missing"


def test_redis_away_is_degraded_not_unready(api, app, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)  # Redis configured
    monkeypatch.setattr(type(limiter.storage), "check", lambda self: False)
    r = api.get("/readyz")
    assert r.status_code == 200
    assert r.get_json()["status"] == "degraded" and r.get_json()["rate_limits"] == "fallback"
    monkeypatch.setattr(type(limiter.storage), "check", lambda self: True)
    assert api.get("/readyz").get_json()["status"] == "ready"
