"""Keeping only what may be kept: records past their retention are deleted by the background
worker (hourly, `coupons/worker.py`) or `flask --app wsgi exchange purge`, a small batch per
transaction, so no purge holds a lock for longer than a few milliseconds.

| kind                | purged when                                       | setting                               |
|---------------------|---------------------------------------------------|---------------------------------------|
| idempotency keys    | stored longer ago than the retention               | EXCHANGE_IDEMPOTENCY_RETENTION_HOURS  |
| till pairing codes  | used or expired longer ago than the retention      | EXCHANGE_TILL_PAIRING_RETENTION_DAYS  |
| webhook deliveries  | succeeded or given up longer ago than the retention | EXCHANGE_WEBHOOK_DELIVERY_RETENTION_DAYS |
| events              | created before the retention (≥ 30 days), no delivery left | EXCHANGE_EVENT_RETENTION_DAYS |

Money records — redemptions, reversals, ledger transactions and entries, settlements and
their statements — are never purged (SPEC §4.3): no kind here may name their tables, and
`tests/api/test_retention.py` holds that. A delivery still pending is never purged, and an
event is kept while any delivery of it is (deliveries go first, in the order of `KINDS`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import and_, delete, or_, select

from . import clock
from .db.idempotency import purge_expired
from .db.unit_of_work import unit_of_work

log = logging.getLogger("exchange.retention")
# Tables holding money or its evidence: never purged, whatever a setting says.
MONEY_TABLES = frozenset({"redemptions", "reversals", "ledger_transactions", "ledger_entries", "settlements",
                          "settlement_obligations", "settlement_confirmations", "settlement_disputes",
                          "partnership_months"})


@dataclass(frozen=True)
class Kind:
    name: str
    table: str
    purge: Callable[[datetime, int], int]  # (now, batch) → rows deleted


def _in_batches(table, due, batch: int) -> int:
    """DELETE … WHERE id IN (SELECT id … LIMIT batch), one transaction per batch."""
    total = 0
    while True:
        with unit_of_work() as uow:
            session = uow.session
            ids = select(table.c.id).where(due).order_by(table.c.id).limit(batch).scalar_subquery()
            deleted = session.execute(delete(table).where(table.c.id.in_(ids))).rowcount
        total += deleted
        if deleted < batch:
            return total


def _till_pairings(now: datetime, batch: int) -> int:
    from .till.models import TillPairing as P

    cutoff = now - current_app.config["TILL_PAIRING_RETENTION"]
    # Used (the terminal key it made lives on by itself) or never used and expired.
    due = or_(P.used_at < cutoff, and_(P.used_at.is_(None), P.expires_at < cutoff))
    return _in_batches(P.__table__, due, batch)


def _webhook_deliveries(now: datetime, batch: int) -> int:
    from .events.models import WebhookDelivery as D

    cutoff = now - current_app.config["WEBHOOK_DELIVERY_RETENTION"]
    due = or_(and_(D.status == "succeeded", D.delivered_at < cutoff),
              and_(D.status == "failed", D.last_attempt_at < cutoff))
    return _in_batches(D.__table__, due, batch)


def _events(now: datetime, batch: int) -> int:
    from .events.models import Event as E
    from .events.models import WebhookDelivery as D

    cutoff = now - current_app.config["EVENT_RETENTION"]
    due = and_(E.created < cutoff, ~select(D.id).where(D.event_id == E.id).exists())
    return _in_batches(E.__table__, due, batch)


KINDS = (
    Kind("idempotency_keys", "idempotency_records", lambda now, batch: purge_expired(now, batch)),
    Kind("till_pairings", "till_pairings", _till_pairings),
    Kind("webhook_deliveries", "webhook_deliveries", _webhook_deliveries),
    Kind("events", "events", _events),
)


def purge_due(now: datetime | None = None) -> dict[str, int]:
    """Every kind's records past retention deleted; how many of each."""
    now = now or clock.now()
    batch = current_app.config["PURGE_BATCH"]
    purged = {kind.name: kind.purge(now, batch) for kind in KINDS}
    if any(purged.values()):
        log.info("purged records past their retention", extra=purged)
    return purged
