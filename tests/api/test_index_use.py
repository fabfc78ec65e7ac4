"""The money path's statements find their rows through indexes, with tables big enough that the
planner has a choice (SPEC §6: the cost of a redemption must not grow with the data).

20,000 coupons, redemptions and idempotency keys over 100 partnerships are written in the test's transaction (rolled
back afterwards) and the tables analysed, so PostgreSQL plans on real statistics; on SQLite the
same plans come from its query planner. Each statement is the one the service runs (its compiled
form), planned with the parameters a redemption would bind.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, inspect

from exchange.coupons.context import coupon_in_context
from exchange.coupons.models import Coupon
from exchange.db.idempotency import _FIND, _LOCK_AND_FIND, IdempotencyRecord
from exchange.merchants.models import Merchant, Store
from exchange.offers.models import Offer
from exchange.partners.models import Partnership, PartnershipTerms
from exchange.redemptions import store
from exchange.redemptions.models import Redemption

ROWS, PAIRS = 20_000, 100
T0 = datetime(2026, 6, 1, tzinfo=UTC)
PARAMS = {"code": "ABCD2345EFGH6", "coupon_id": 777, "token": "x.y.z", "now": T0 + timedelta(days=90),
          "merchant_id": 1, "key": "a-key", "name": "1:a-key", "partnership_id": 42, "offer_id": 42,
          "pseudonym": "p" * 64, "starts_at": T0 + timedelta(days=30), "ends_at": T0 + timedelta(days=61)}


@pytest.fixture
def many_rows(connection):
    """PAIRS + 1 merchants, PAIRS partnerships and offers, ROWS coupons, redemptions and idempotency keys."""
    day = T0
    connection.execute(insert(Merchant), [dict(id=i, name=f"m{i}", price_tier=3, scale="small", city="杭州",
                                               status="active", created_at=day, updated_at=day)
                                          for i in range(1, PAIRS + 2)])
    connection.execute(insert(Store), [dict(id=1, merchant_id=1, name="s", address="a", city="杭州", created_at=day)])
    connection.execute(insert(Partnership), [dict(id=p, proposer_id=p + 1, partner_id=1, low_id=1, high_id=p + 1,
                                                  status="active", created_at=day, updated_at=day)
                                             for p in range(1, PAIRS + 1)])
    connection.execute(insert(PartnershipTerms), [dict(
        id=p, partnership_id=p, version=1, status="accepted", proposed_by_id=p + 1, commission_type="percent",
        rate_bps=500, currency="CNY", proposed_at=day, effective_from=day) for p in range(1, PAIRS + 1)])
    connection.execute(insert(Offer), [dict(
        id=p, owner_id=1, title="t", discount_type="amount", discount_amount=100, min_spend=0, currency="CNY",
        valid_from=day, valid_until=day + timedelta(days=400), uses_per_coupon=1, distributor_share_bps=0,
        restore_use_on_refund="full_refund", status="active", coupons_issued=0, budget_spent=0, created_at=day,
        updated_at=day) for p in range(1, PAIRS + 1)])
    connection.execute(insert(Coupon), [dict(
        id=n, code=f"{n:013d}", offer_id=n % PAIRS + 1, distributor_id=n % PAIRS + 2, customer_pseudonym=f"{n:064d}",
        uses_total=1, uses_left=0, status="active", token=f"t.{n}.s", issued_at=day,
        expires_at=day + timedelta(days=400)) for n in range(1, ROWS + 1)])
    connection.execute(insert(Redemption.__table__), [dict(
        id=n, coupon_id=n, offer_id=n % PAIRS + 1, owner_id=1, distributor_id=n % PAIRS + 2, store_id=1,
        partnership_id=n % PAIRS + 1, terms_id=n % PAIRS + 1, currency="CNY", order_amount=1000, discount=100,
        paid_amount=900, commission_amount=45, refunded_amount=0, commission_clawed_back=0, cofunding_amount=0,
        cofunding_returned=0, customer_pseudonym=f"{n:064d}", redeemed_at=day + timedelta(minutes=n * 9))
        for n in range(1, ROWS + 1)])
    connection.execute(insert(IdempotencyRecord), [dict(
        id=n, merchant_id=n % PAIRS + 1, key=f"key-{n}", request_hash="h" * 64, status="done", response_status=201,
        response_body="{}", locked_at=day, created_at=day) for n in range(1, ROWS + 1)])
    connection.exec_driver_sql("ANALYZE")
    return connection


def _plan(connection, compiled) -> str:
    form = compiled._compile(connection.dialect)
    params = compiled._bind(form, {name: PARAMS[name] for name in form.names if name in PARAMS})
    if connection.dialect.name == "sqlite":
        return "\n".join(row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + form.sql, params))
    return "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + form.sql, params))


def _uses(plan: str, index: str, table: str) -> bool:
    """The plan reaches `table` through `index` (PostgreSQL's or SQLite's words for it)."""
    if index == "pk_coupons":  # SQLite: an INTEGER PRIMARY KEY is the rowid
        return "pk_coupons" in plan or "SEARCH coupons USING INTEGER PRIMARY KEY" in plan
    if index.startswith("uq_") and f"INDEX sqlite_autoindex_{table}_" in plan:  # SQLite's unique constraint
        return True
    return f"using {index} on {table}" in plan or f"Bitmap Index Scan on {index}" in plan or (
        f"USING INDEX {index}" in plan or f"USING COVERING INDEX {index}" in plan)


STATEMENTS = {
    "the coupon of a scanned token, locked": (lambda db: coupon_in_context("token", True), "pk_coupons", "coupons"),
    "the coupon of a typed code": (lambda db: coupon_in_context("code"), "uq_coupons_code", "coupons"),
    "the coupon of the customer page": (lambda db: coupon_in_context("id"), "pk_coupons", "coupons"),
    "the guarded use": (lambda db: store._TAKE_A_USE, "pk_coupons", "coupons"),
    # PostgreSQL takes the key's advisory lock in the same statement; SQLite has no such locks.
    "the idempotency key": (lambda db: _LOCK_AND_FIND if db == "postgresql" else _FIND,
                            "uq_idempotency_records_merchant_id_key", "idempotency_records"),
    "a capped partnership's month so far": (lambda db: store._MONTH_SUM, "ix_redemptions_partnership_time",
                                            "redemptions"),
    "a customer's redemptions of a limited offer": (lambda db: store._CUSTOMER_COUNT,
                                                    "ix_redemptions_offer_customer", "redemptions"),
}


def test_each_statement_of_the_redemption_path_finds_its_rows_by_index(many_rows):
    # One set of rows for all the statements (writing 60,000 rows is the test's cost).
    unindexed = {}
    for name, (make, index, table) in STATEMENTS.items():
        plan = _plan(many_rows, make(many_rows.dialect.name))
        if not _uses(plan, index, table) or f"Seq Scan on {table}" in plan or f"SCAN {table}" in plan:
            unindexed[name] = plan
    assert unindexed == {}


def test_the_tables_that_grow_have_the_indexes_the_paths_use(connection):
    found = {table: {tuple(i["column_names"]) for i in inspect(connection).get_indexes(table)}
             | {tuple(u["column_names"]) for u in inspect(connection).get_unique_constraints(table)}
             for table in ("coupons", "redemptions", "ledger_transactions", "ledger_entries", "idempotency_records")}
    assert ("code",) in found["coupons"]
    assert {("coupon_id",), ("owner_id", "redeemed_at"), ("distributor_id", "redeemed_at"),
            ("partnership_id", "redeemed_at"), ("offer_id", "customer_pseudonym")} <= found["redemptions"]
    assert {("redemption_id",), ("reversal_id",), ("posted_at",)} <= found["ledger_transactions"]
    assert {("transaction_id",), ("merchant_id", "counterparty_id", "account")} <= found["ledger_entries"]
    assert ("merchant_id", "key") in found["idempotency_records"]
