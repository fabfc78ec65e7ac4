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

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from .. import clock
from ..db.statements import Compiled
from ..db.unit_of_work import unit_of_work
from ..extensions import db
from .models import Event, WebhookDelivery, WebhookEndpoint
from .types import subscribed

BATCH = 500
# pg_advisory_xact_lock's key for "numbering events" (any constant no other lock uses).
_RELAY_LOCK = 7_316_001


def relay(limit: int = BATCH) -> int:
    """One pass: how many events were numbered (and fanned out to their endpoints).

    Every server process runs one every fraction of a second while busy, so a pass is a few
    compiled statements (`exchange.db.statements`): numbering a busy second's events costs the
    same whether ten or a hundred redemptions wrote them."""
    # A read first: an idle relay (most passes) never takes SQLite's one write lock.
    if _ANY_PENDING.scalar(db.session) is None:
        db.session.rollback()
        return 0
    with unit_of_work() as uow:
        session = uow.session
        if uow.dialect == "postgresql":
            _LOCK.run(session, {"key": _RELAY_LOCK})
        pending = _PENDING.all(session, {"limit": limit})
        if not pending:
            return 0
        top = _TOP.scalar(session)
        _NUMBER.run_many(session, [{"b_id": e.id, "b_seq": n} for n, e in enumerate(pending, top + 1)])
        _queue_deliveries(session, pending)
    return len(pending)


def _queue_deliveries(session: Session, events) -> None:
    merchants = {e.merchant_id for e in events}
    endpoints = defaultdict(list)
    for endpoint in session.execute(select(WebhookEndpoint.id, WebhookEndpoint.merchant_id, WebhookEndpoint.enabled,
                                           WebhookEndpoint.event_types, WebhookEndpoint.created_at)
                                    .where(WebhookEndpoint.merchant_id.in_(merchants))):
        endpoints[endpoint.merchant_id].append(endpoint)
    if not endpoints:  # the common case: nobody subscribed
        return
    pings = {e.id for e in events if e.type == "webhook.test" and e.merchant_id in endpoints}
    asked = dict(session.execute(select(Event.id, Event.data).where(Event.id.in_(pings))).all()) if pings else {}
    now = clock.now()
    rows = [dict(event_id=e.id, endpoint_id=endpoint.id, status="pending", attempts=0, next_attempt_at=now,
                 retry_window_from=now, created_at=now)
            for e in events for endpoint in endpoints[e.merchant_id] if _goes_to(endpoint, e, asked.get(e.id))]
    if rows:
        session.execute(insert(WebhookDelivery.__table__), rows)


def _goes_to(endpoint, event, data: dict | None) -> bool:
    if event.type == "webhook.test":  # a ping goes to the one endpoint it was asked for
        return (data or {}).get("endpoint_id") == endpoint.id
    # An endpoint hears of what happened from its creation on (the feed has what came before).
    return endpoint.enabled and endpoint.created_at <= event.created and subscribed(endpoint.event_types, event.type)


_ANY_PENDING = Compiled(select(Event.id).where(Event.seq.is_(None)).limit(1))
_LOCK = Compiled(select(func.pg_advisory_xact_lock(bindparam("key")).label("locked")))
_PENDING = Compiled(select(Event.id, Event.merchant_id, Event.type, Event.created).where(Event.seq.is_(None))
                    .order_by(Event.created, Event.id).limit(bindparam("limit")))
_TOP = Compiled(select(func.coalesce(func.max(Event.seq), 0).label("top")))
_NUMBER = Compiled(update(Event.__table__).where(Event.__table__.c.id == bindparam("b_id"))
                   .values(seq=bindparam("b_seq")))
