"""Retention: what is past its time is purged in small batches, what is not is kept, and money
records are never purged."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from config import ConfigError, load_config
from exchange import clock
from exchange.db.base import Base
from exchange.db.idempotency import IdempotencyRecord
from exchange.ledger.models import LedgerEntry
from exchange.redemptions.models import Redemption
from exchange.retention import KINDS, MONEY_TABLES, purge_due
from exchange.till.models import TillPairing


def _redeem(api, world, key):
    coupon = api.post(f"/api/v1/offers/{world.offer['id']}/coupons", world.stroller.key,
                      json={"count": 1}).get_json()["items"][0]
    r = api.post("/api/v1/redemptions", world.maternity.terminal_key,
                 json={"payload": coupon["payload"], "order_amount": 25000}, headers={"Idempotency-Key": key})
    assert r.status_code == 201, r.get_json()
    return r


def _pair(api, merchant):
    r = api.post(f"/api/v1/stores/{merchant.store_id}/till-pairings", merchant.key, json={})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["code"]


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_idempotency_retention_is_configurable_and_purged_only_when_due(api, app, world, session, monkeypatch):
    monkeypatch.setitem(app.config, "IDEMPOTENCY_RETENTION", timedelta(hours=72))
    first = _redeem(api, world, "kept-three-days")
    clock.advance(timedelta(hours=50))
    assert purge_due()["idempotency_keys"] == 0
    replay = api.post("/api/v1/redemptions", world.maternity.terminal_key,
                      json={"payload": "ignored", "order_amount": 25000},
                      headers={"Idempotency-Key": "kept-three-days"})
    assert replay.headers.get("Idempotent-Replayed") is None  # another body: a conflict, not new
    assert replay.status_code == 422
    clock.advance(timedelta(hours=23))
    assert purge_due()["idempotency_keys"] == 1
    assert _count(session, IdempotencyRecord) == 0
    assert first.status_code == 201


def test_used_and_expired_pairing_codes_are_purged_after_their_retention(api, world, session):
    used = _pair(api, world.maternity)
    paired = api.post("/api/v1/till-pairings/exchange", json={"code": used})
    assert paired.status_code == 201
    _pair(api, world.maternity)  # never used: expires in minutes
    clock.advance(timedelta(days=29))
    fresh = _pair(api, world.maternity)
    assert purge_due()["till_pairings"] == 0
    clock.advance(timedelta(days=2))
    assert purge_due()["till_pairings"] == 2
    assert _count(session, TillPairing) == 1
    assert fresh  # the young one is kept; the terminal key made by the purged one lives on
    assert api.get("/api/v1/till", paired.get_json()["terminal_key"]).status_code == 200


def test_purges_run_in_small_batches(api, app, world, connection, monkeypatch):
    monkeypatch.setitem(app.config, "PURGE_BATCH", 2)
    for _ in range(5):
        _redeem(api, world, str(uuid.uuid4()))
    clock.advance(timedelta(hours=49))
    deletes = []

    def listener(conn, cursor, statement, *args):
        if statement.startswith("DELETE"):
            deletes.append(statement)

    event.listen(connection, "before_cursor_execute", listener)
    try:
        assert purge_due()["idempotency_keys"] == 5
    finally:
        event.remove(connection, "before_cursor_execute", listener)
    assert len([s for s in deletes if "idempotency_records" in s]) == 3  # 2 + 2 + 1
    assert all("LIMIT" in s for s in deletes)


def test_money_records_are_never_purged(api, world, session):
    assert set(Base.metadata.tables) >= MONEY_TABLES
    assert not {kind.table for kind in KINDS} & MONEY_TABLES
    _redeem(api, world, "money")
    before = _count(session, Redemption), _count(session, LedgerEntry)
    clock.advance(timedelta(days=3650))
    purge_due()
    assert (_count(session, Redemption), _count(session, LedgerEntry)) == before


def test_the_purge_command_names_each_kind(app, connection):
    result = app.test_cli_runner().invoke(args=["exchange", "purge"])
    assert result.exit_code == 0, result.output
    assert "idempotency_keys: 0 deleted" in result.output and "till_pairings: 0 deleted" in result.output


@pytest.mark.parametrize("setting,value", [("EXCHANGE_IDEMPOTENCY_RETENTION_HOURS", "23"),
                                           ("EXCHANGE_TILL_PAIRING_RETENTION_DAYS", "0"),
                                           ("EXCHANGE_PURGE_BATCH", "lots")])
def test_retention_settings_are_checked(setting, value):
    with pytest.raises(ConfigError, match=setting):
        load_config({"EXCHANGE_ENV": "testing", setting: value})


def test_delivered_webhook_attempts_and_old_events_are_purged_pending_ones_kept(api, world, session):
    from exchange.db.unit_of_work import unit_of_work
    from exchange.events.models import Event, WebhookDelivery, WebhookEndpoint

    now = clock.now()
    with unit_of_work() as uow:
        endpoint = WebhookEndpoint(merchant_id=world.maternity.id, url="https://erp.example/hooks", description=None,
                                   event_types=["coupon.redeemed"], enabled=True, secret="whsec_x",
                                   previous_secret=None, previous_secret_expires_at=None, failing_since=None,
                                   disabled_reason=None, created_at=now, updated_at=now)
        uow.session.add(endpoint)
        uow.session.flush()
        for n, status in enumerate(("succeeded", "failed", "pending")):
            uow.session.add(Event(id=f"evt_retention{n}", merchant_id=world.maternity.id, type="coupon.redeemed",
                                  created=now, data={}, seq=None))
            uow.session.flush()
            uow.session.add(WebhookDelivery(
                event_id=f"evt_retention{n}", endpoint_id=endpoint.id, status=status, attempts=1,
                next_attempt_at=now, lease_owner=None, retry_window_from=now, last_attempt_at=now,
                last_status_code=200 if status == "succeeded" else 500, last_latency_ms=3, last_excerpt="",
                last_error=None, delivered_at=now if status == "succeeded" else None, created_at=now))
    clock.advance(timedelta(days=29))
    assert purge_due() | {} == {**purge_due(), "webhook_deliveries": 0, "events": 0}
    clock.advance(timedelta(days=2))
    purged = purge_due()
    # The finished deliveries go, then their events (and the world's own, which had none); a
    # delivery still pending keeps its event.
    assert purged["webhook_deliveries"] == 2 and purged["events"] >= 2
    assert session.scalars(select(WebhookDelivery.status)).all() == ["pending"]
    assert session.scalars(select(Event.id).where(Event.id.like("evt_retention%"))).all() == ["evt_retention2"]


def test_the_events_feed_keeps_at_least_thirty_days():
    with pytest.raises(ConfigError):
        load_config({"EXCHANGE_EVENT_RETENTION_DAYS": "7"})
    assert load_config({})["EVENT_RETENTION"] == timedelta(days=30)
