"""The redemption's lookup reaches its partnership through the live-pair index, on both databases.

SQLite uses a partial index only when the query repeats the index's WHERE term; without it, every
redemption scanned the whole partnerships table (found by profiling the money path).
"""

from datetime import UTC, datetime

import pytest

from exchange.coupons.context import coupon_in_context as _coupon_in_context

NOW = datetime(2026, 11, 1, tzinfo=UTC)
PARAMS = {"code": "ABCD2345", "coupon_id": 1, "token": "x.y.z", "now": NOW}


def _plan(connection, prepared) -> str:
    dialect = connection.dialect
    form = prepared._compile(dialect)
    params = prepared._bind(form, {name: PARAMS[name] for name in form.names if name in PARAMS})
    if dialect.name == "sqlite":
        return "\n".join(row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + form.sql, params))
    # The tables here are tiny, so PostgreSQL would rightly scan them; forbid that to see
    # whether an index can serve the join at all.
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    return "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + form.sql, params))


@pytest.mark.parametrize("by", ["code", "token", "id"])
@pytest.mark.parametrize("lock", [False, True])
def test_the_redemption_lookup_finds_the_partnership_by_its_index(connection, by, lock):
    plan = _plan(connection, _coupon_in_context(by, lock))
    assert "uq_partnerships_live_pair" in plan, plan
    assert "SCAN partnerships" not in plan and "Seq Scan on partnerships" not in plan, plan
