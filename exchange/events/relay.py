"""The outbox's relay: numbers committed events in the order they became visible and queues
one delivery per subscribed webhook endpoint.

Why a number of its own: event rows are written by concurrent transactions, and on PostgreSQL
one that began first may commit last. A feed ordered by anything assigned at INSERT would let
a client that read up to event 10 never see event 9, committed a moment later. The relay only
ever sees committed rows and numbers them one pass at a time (a transaction-scoped advisory
lock on PostgreSQL; SQLite's write lock), so `seq` only grows in the order events become
readable, and `after=` never skips one.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from .. import clock
from ..db.unit_of_work import unit_of_work
from ..extensions import db
from .models import Event, WebhookDelivery, WebhookEndpoint
from .types import subscribed

BATCH = 500
# pg_advisory_xact_lock's key for "numbering events" (any constant no other lock uses).
_RELAY_LOCK = 7_316_001


def relay(limit: int = BATCH) -> int:
    """One pass: how many events were numbered (and fanned out to their endpoints)."""
    # A read first: an idle relay (most passes) never takes SQLite's one write lock.
    if db.session.scalar(select(Event.id).where(Event.seq.is_(None)).limit(1)) is None:
        db.session.rollback()
        return 0
    with unit_of_work() as uow:
        session = uow.session
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _RELAY_LOCK})
        pending = session.execute(select(Event.id, Event.merchant_id, Event.type, Event.data, Event.created)
                                  .where(Event.seq.is_(None)).order_by(Event.created, Event.id)
                                  .limit(limit)).all()
        if not pending:
            return 0
        top = session.scalar(select(func.coalesce(func.max(Event.seq), 0)))
        session.execute(update(Event.__table__).where(Event.__table__.c.id == bindparam("b_id"))
                        .values(seq=bindparam("b_seq")),
                        [{"b_id": e.id, "b_seq": n} for n, e in enumerate(pending, top + 1)])
        _queue_deliveries(session, pending)
    return len(pending)


def _queue_deliveries(session: Session, events) -> None:
    endpoints = defaultdict(list)
    for endpoint in session.scalars(select(WebhookEndpoint).where(
            WebhookEndpoint.merchant_id.in_({e.merchant_id for e in events}))):
        endpoints[endpoint.merchant_id].append(endpoint)
    now = clock.now()
    rows = [dict(event_id=e.id, endpoint_id=endpoint.id, status="pending", attempts=0, next_attempt_at=now,
                 retry_window_from=now, created_at=now)
            for e in events for endpoint in endpoints[e.merchant_id] if _goes_to(endpoint, e)]
    if rows:
        session.execute(insert(WebhookDelivery.__table__), rows)


def _goes_to(endpoint: WebhookEndpoint, event) -> bool:
    if event.type == "webhook.test":  # a ping goes to the one endpoint it was asked for
        return event.data.get("endpoint_id") == endpoint.id
    # An endpoint hears of what happened from its creation on (the feed has what came before).
    return endpoint.enabled and endpoint.created_at <= event.created and subscribed(endpoint.event_types, event.type)
