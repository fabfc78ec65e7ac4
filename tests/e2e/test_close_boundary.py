"""One instant, one period (SPEC §4.9), at the moment a month is being closed.

A close takes the ledger as it stands when it locks it. A sale whose time was read before that
lock but whose ledger posting waited behind it would be dated in the closed month yet missing
from its statement. So a redemption reads its time only once it may post: a sale that waits for
a close is dated after it.
"""

import json
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

from exchange.periods import Period
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.world import _ok, register

pytestmark = pytest.mark.e2e

BEFORE_MIDNIGHT = "2026-10-31T23:59:38+08:00"


@contextmanager
def a_close_in_progress(db_url):
    """Hold the lock a month's close holds while it reads the ledger."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("BEGIN"))
            conn.execute(text("LOCK TABLE ledger_transactions IN SHARE MODE"))
        else:
            conn.connection.driver_connection.isolation_level = None
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.exec_driver_sql("ROLLBACK")
    engine.dispose()


def test_a_sale_that_waits_for_a_close_is_dated_after_it(fresh_db_url, tmp_path):
    proc, server = start_server(fresh_db_url, tmp_path, EXCHANGE_NOW=BEFORE_MIDNIGHT)
    midnight = datetime.fromisoformat("2026-11-01T00:00:00+08:00").timestamp()
    try:
        stroller = register(server, "贝贝童车馆", ["stroller"])
        maternity = register(server, "暖暖孕婴坊", ["maternity", "baby_care"])
        p = _ok(server.request("POST", "/api/v1/partnerships", {
            "partner_id": maternity["id"], "commission": {"type": "fixed", "amount": 500}, "currency": "CNY"},
            stroller["key"]))
        _ok(server.request("POST", f"/api/v1/partnerships/{p['id']}/accept", None, maternity["key"]), 200)
        offer = _ok(server.request("POST", "/api/v1/offers", {
            "title": "满200减30", "discount": {"type": "amount", "amount": 3000}, "min_spend": 20000, "currency": "CNY",
            "valid_from": "2026-10-01T00:00:00+08:00", "valid_until": "2027-01-01T00:00:00+08:00"},
            maternity["key"]))
        coupon = _ok(server.request("POST", f"/api/v1/offers/{offer['id']}/coupons", {"count": 1},
                                    stroller["key"]))["items"][0]
        # The server's sandbox clock, as it stamped the offer it just made.
        offset = datetime.fromisoformat(offer["created_at"]).timestamp() - time.time()
        server_now = lambda: time.time() + offset  # noqa: E731
        while server_now() < midnight - 1.5:
            time.sleep(0.1)
        assert server_now() < midnight - 1, "setup took too long for the sandbox clock"
        answer = {}
        with a_close_in_progress(fresh_db_url):
            sale = threading.Thread(target=lambda: answer.update(result=server.request(
                "POST", "/api/v1/redemptions", {"payload": coupon["payload"], "order_amount": 25000,
                                                "store_id": maternity["store_id"]},
                maternity["key"], headers={"Idempotency-Key": str(uuid.uuid4())})))
            sale.start()
            while server_now() < midnight + 1:  # the sale waits through midnight
                time.sleep(0.2)
            assert "result" not in answer, "the sale did not wait for the close"
        sale.join(30)
        status, _, body = answer["result"]
        assert status == 201, body
        redeemed_at = datetime.fromisoformat(json.loads(body)["redeemed_at"])
        assert str(Period.containing(redeemed_at, "Asia/Shanghai")) == "2026-11"
        engine = create_engine(fresh_db_url)
        with engine.connect() as conn:
            posted = conn.execute(text("SELECT posted_at FROM ledger_transactions")).scalar_one()
        engine.dispose()
        assert str(Period.containing(_aware(posted), "Asia/Shanghai")) == "2026-11"
    finally:
        stop_server(proc)


def _aware(value):
    """A stored instant: timezone-aware on PostgreSQL, naive UTC text on SQLite."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
