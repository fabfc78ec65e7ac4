"""`/healthz` says what the answering worker knows, from flags that failures set and successes
clear, and stays as cheap as it was: one `SELECT 1`, no write (it is the redemption benchmark's
denominator). The real outages behind the flags: tests/e2e/test_rate_limit_store_outage.py,
test_sqlite_read_only.py, test_database_outage.py."""

import psycopg
import pytest
from sqlalchemy import event

from exchange.db import outages
from exchange.extensions import limiter


@pytest.fixture
def fresh_flags(monkeypatch):
    monkeypatch.setattr(outages, "seen", outages._Process())
    return outages.seen


def test_all_well(api, fresh_flags):
    r = api.get("/healthz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok", "database": "writable", "rate_limits": "per_process"}


def test_a_failed_write_makes_it_say_not_writable_until_a_write_commits(api, merchant, fresh_flags):
    outages.note_failure(outages.NOT_WRITABLE, psycopg.errors.ReadOnlySqlTransaction("read-only"))
    r = api.get("/healthz")
    assert r.status_code == 200  # still serving: reads, verify and the customer page work
    assert r.get_json() == {"status": "degraded", "database": "not_writable", "rate_limits": "per_process"}
    assert api.patch("/api/v1/merchants/me", merchant.key, json={"city": "宁波"}).status_code == 200
    assert api.get("/healthz").get_json()["database"] == "writable"


def test_rate_limits_counted_per_process_while_redis_is_away(api, app, fresh_flags, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)  # Redis configured
    assert api.get("/healthz").get_json()["rate_limits"] == "shared"
    monkeypatch.setattr(limiter, "_degraded", True)
    assert api.get("/healthz").get_json() == {"status": "degraded", "database": "writable",
                                              "rate_limits": "fallback"}


def test_health_runs_one_statement_and_writes_nothing(api, connection, fresh_flags):
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", seen)
    try:
        assert api.get("/healthz").status_code == 200
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    # The savepoints are the test's own transaction (tests/conftest.py), not the health check's.
    assert [s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))] == ["SELECT 1"]


def test_the_schema_says_what_each_field_means(api):
    schema = api.get("/openapi.json").get_json()["components"]["schemas"]["Health"]
    for name in ("status", "database", "rate_limits"):
        assert schema["properties"][name]["enum"] and len(schema["properties"][name]["description"]) > 40
