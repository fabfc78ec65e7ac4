"""`GET /events`: a merchant's own events, oldest first, from a cursor."""

from __future__ import annotations

from sqlalchemy import select

from ..errors import Unprocessable
from ..extensions import db
from ..http.auth import Principal
from .models import Event


def list_events(principal: Principal, after: str | None, types: list[str], limit: int) -> list[Event]:
    query = select(Event).where(Event.merchant_id == principal.merchant_id, Event.seq.is_not(None))
    if after:
        seq = db.session.scalar(select(Event.seq).where(Event.id == after,
                                                        Event.merchant_id == principal.merchant_id))
        if seq is None:
            # Another merchant's event id is as unknown as a made-up one.
            raise Unprocessable("`after` is not one of your events' ids.", code="validation_failed",
                                errors={"after": ["Not one of your events."]})
        query = query.where(Event.seq > seq)
    if types:
        query = query.where(Event.type.in_(types))
    return list(db.session.scalars(query.order_by(Event.seq).limit(limit)))
