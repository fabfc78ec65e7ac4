"""The transactional outbox: an event is a row written in the transaction of the change it
reports, so it exists exactly when the change does (SPEC §9). Nothing here sends anything:
the relay and the delivery workers read committed events afterwards."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert
from sqlalchemy.orm import Session

from .. import clock
from ..db.statements import Compiled
from ..db.unit_of_work import open_unit
from .models import Event
from .types import EVENT_TYPES

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_event_id(at: datetime) -> str:
    """`evt_` and a ULID (48 bits of milliseconds, 80 random bits): unguessable, and sorted by
    time, so ids written in one millisecond-ordered stream stay roughly in order."""
    value = (int(at.timestamp() * 1000) << 80) | secrets.randbits(80)
    return "evt_" + "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def emit(session: Session, merchant_id: int, type: str, data: dict[str, Any], *,
         at: datetime | None = None) -> str:
    """Append an event for `merchant_id` to the caller's transaction (its session or unit of
    work); its id. `data` is that merchant's API view of the subject (a schema's dump).

    A compiled INSERT (a redemption writes two), after flushing whatever the caller's unit of
    work still holds (an event may name a row written just before it)."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}: add it to exchange/events/types.py")
    if open_unit(session) is None:
        raise RuntimeError("events are written inside the unit of work of the change they report")
    at = at or clock.now()
    event_id = new_event_id(at)
    session.flush()
    _INSERT.run(session, dict(id=event_id, merchant_id=merchant_id, type=type, created=at, data=data,
                              seq=None))
    return event_id


_INSERT = Compiled(insert(Event.__table__).values({c.key: bindparam(c.key) for c in Event.__table__.columns}))
