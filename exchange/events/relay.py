"""The outbox's relay: numbers committed events in the order they became visible and queues
one delivery per subscribed webhook endpoint.

Why a number of its own: event rows are written by concurrent transactions, and on PostgreSQL
one that began first may commit last. A feed ordered by anything assigned at INSERT would let
a client that read up to event 10 never see event 9, committed a moment later. The relay only
ever sees committed rows and numbers them one pass at a time (a transaction-scoped advisory
lock on PostgreSQL; SQLite's write lock), so `seq` only grows in the order events become
readable, and `after=` never skips one.

A delivery worker relays in its own pass (`exchange.webhooks.attempts.take`): the deliveries it
queues then are inserted already leased to it, their first attempt counted, in the same
transaction — the attempt it makes next, without a claim of its own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session

from .. import clock
from ..db.statements import Compiled
from ..db.unit_of_work import unit_of_work
from ..extensions import db
from .models import ATTEMPT_ENDPOINT_COLUMNS, AttemptEndpoint, Event, WebhookDelivery, WebhookEndpoint
from .types import subscribed

BATCH = 500
# pg_advisory_xact_lock's key for "numbering events" (any constant no other lock uses).
_RELAY_LOCK = 7_316_001


@dataclass(frozen=True)
class Lease:
    """Who takes the first attempts of what is queued, how many at most, and until when."""

    owner: str
    count: int
    until: datetime


@dataclass(frozen=True)
class Leased:
    """A delivery inserted leased, with what its attempt needs of its endpoint."""

    delivery_id: int
    event_id: str
    endpoint: AttemptEndpoint


def relay(limit: int = BATCH) -> int:
    """One pass: how many events were numbered (and fanned out to their endpoints, due now).

    Every server process runs one every fraction of a second while busy, so a pass is a few
    compiled statements (`exchange.db.statements`): numbering a busy second's events costs the
    same whether ten or a hundred redemptions wrote them."""
    # A read first: an idle relay (most passes) never takes SQLite's one write lock.
    if not any_pending(db.session):
        db.session.rollback()
        return 0
    with unit_of_work() as uow:
        return relay_in(uow, limit)[0]


def any_pending(session: Session) -> bool:
    return _ANY_PENDING.scalar(session) is not None


def relay_in(uow, limit: int = BATCH, lease: Lease | None = None) -> tuple[int, list[Leased]]:
    """Number up to `limit` new events and queue their deliveries, in `uow`'s transaction; the
    first `lease.count` deliveries are inserted leased to `lease.owner` (returned)."""
    session = uow.session
    if uow.dialect == "postgresql":
        _LOCK.run(session, {"key": _RELAY_LOCK})
    # Numbered in one statement, in the order they were written (the order `created, id`).
    pending = sorted(_NUMBER.all(session, {"limit": limit}), key=lambda e: e.seq)
    if not pending:
        return 0, []
    return len(pending), _queue_deliveries(session, pending, lease)


def _queue_deliveries(session: Session, events, lease: Lease | None) -> list[Leased]:
    merchants = {e.merchant_id for e in events}
    endpoints = defaultdict(list)
    e = WebhookEndpoint.__table__.c
    for endpoint in session.execute(select(e.merchant_id, e.event_types, e.created_at, *ATTEMPT_ENDPOINT_COLUMNS)
                                    .where(e.merchant_id.in_(merchants))):
        endpoints[endpoint.merchant_id].append(endpoint)
    if not endpoints:  # the common case: nobody subscribed
        return []
    pings = {e.id for e in events if e.type == "webhook.test" and e.merchant_id in endpoints}
    asked = dict(session.execute(select(Event.id, Event.data).where(Event.id.in_(pings))).all()) if pings else {}
    queued = [(e, endpoint) for e in events for endpoint in endpoints[e.merchant_id]
              if _goes_to(endpoint, e, asked.get(e.id))]
    if not queued:
        return []
    now = clock.now()
    taken = min(lease.count, len(queued)) if lease else 0
    table = WebhookDelivery.__table__
    rows = [dict(event_id=e.id, endpoint_id=endpoint.id, status="pending", attempts=0, next_attempt_at=now,
                 lease_owner=None, last_attempt_at=None, retry_window_from=now, created_at=now)
            for e, endpoint in queued]
    for row in rows[:taken]:
        row.update(attempts=1, lease_owner=lease.owner, next_attempt_at=lease.until, last_attempt_at=now)
    connection = session.connection()
    if taken:
        ids = connection.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                                 rows[:taken]).scalars().all()
        leased = [Leased(i, e.id, AttemptEndpoint(*endpoint[3:]))  # the row's last columns
                  for i, (e, endpoint) in zip(ids, queued, strict=False)]
    else:
        leased = []
    if rows[taken:]:
        connection.execute(insert(table), rows[taken:])
    return leased


def _goes_to(endpoint, event, data: dict | None) -> bool:
    if event.type == "webhook.test":  # a ping goes to the one endpoint it was asked for
        return (data or {}).get("endpoint_id") == endpoint.id
    # An endpoint hears of what happened from its creation on (the feed has what came before).
    return endpoint.enabled and endpoint.created_at <= event.created and subscribed(endpoint.event_types, event.type)


_E = Event.__table__.c
_ANY_PENDING = Compiled(select(_E.id).where(_E.seq.is_(None)).limit(1))
_LOCK = Compiled(select(func.pg_advisory_xact_lock(bindparam("key")).label("locked")))
# The next `limit` events in the order they were written, numbered on from the highest number yet.
_NUMBERED = (select(_E.id, (func.row_number().over(order_by=(_E.created, _E.id))
                           + select(func.coalesce(func.max(_E.seq), 0)).scalar_subquery()).label("seq"))
             .where(_E.seq.is_(None)).order_by(_E.created, _E.id).limit(bindparam("limit")).subquery("numbered"))
_NUMBER = Compiled(Event.__table__.update().where(_E.id == _NUMBERED.c.id).values(seq=_NUMBERED.c.seq)
                   .returning(_E.id, _E.merchant_id, _E.type, _E.created, _E.seq))
