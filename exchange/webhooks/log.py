"""An endpoint's delivery log, and redelivery by hand."""

from __future__ import annotations

from sqlalchemy import select

from .. import audit, clock
from ..db.unit_of_work import unit_of_work
from ..errors import NotFound
from ..events.models import Event, WebhookDelivery
from ..extensions import db
from ..http.auth import Principal
from .endpoints import own_endpoint


def list_deliveries(principal: Principal, endpoint_id: int, after: int, limit: int) -> list[dict]:
    own_endpoint(principal, endpoint_id)
    rows = db.session.execute(
        select(WebhookDelivery, Event.type).join(Event, Event.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.id > after)
        .order_by(WebhookDelivery.id).limit(limit)).all()
    return [_view(d, type) for d, type in rows]


def redeliver(principal: Principal, endpoint_id: int, delivery_id: int) -> dict:
    """Try again now, with the same webhook-id; a delivery that gave up gets a new 3-day window."""
    with unit_of_work() as uow:
        session = uow.session
        own_endpoint(principal, endpoint_id)
        delivery = session.scalar(select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint_id).with_for_update())
        if delivery is None:
            raise NotFound("No such delivery.")
        now = clock.now()
        if delivery.status != "pending" or delivery.lease_owner is None:
            # (An attempt in flight keeps its lease: it is not sent twice at once.)
            delivery.next_attempt_at = now
        if delivery.status != "pending":
            delivery.status, delivery.retry_window_from = "pending", now
        audit.record(session, actor=principal.actor, merchant_id=principal.merchant_id,
                     action="webhook_delivery.redelivered", subject_type="webhook_delivery", subject_id=delivery.id)
        type = session.scalar(select(Event.type).where(Event.id == delivery.event_id))
        return _view(delivery, type)


def _view(d: WebhookDelivery, event_type: str) -> dict:
    return {"id": d.id, "event_id": d.event_id, "event_type": event_type, "status": d.status,
            "attempts": d.attempts, "next_attempt_at": d.next_attempt_at if d.status == "pending" else None,
            "last_attempt_at": d.last_attempt_at, "last_status_code": d.last_status_code,
            "last_latency_ms": d.last_latency_ms, "last_excerpt": d.last_excerpt, "last_error": d.last_error,
            "delivered_at": d.delivered_at, "created_at": d.created_at}
