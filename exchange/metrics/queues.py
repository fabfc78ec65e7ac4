"""Queue depths read from the database: batches, sheets and webhook deliveries."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from .. import clock
from ..extensions import db
from .registry import BATCH_LAG, BATCHES_QUEUED, COUPONS_QUEUED, SHEETS_QUEUED, WEBHOOK_LAG, WEBHOOKS_QUEUED

REFRESH_SECONDS = 15.0
_next = 0.0


def record_queue_depths() -> None:
    """One GROUP BY over the unfinished batches, one count of sheets, one of pending deliveries."""
    from ..coupons.models import CouponBatch as B
    from ..events.models import Event as E
    from ..events.models import WebhookDelivery as D

    now = clock.now()
    found = {status: (count, remaining, oldest) for status, count, remaining, oldest in db.session.execute(
        select(B.status, func.count(), func.coalesce(func.sum(B.requested - B.issued), 0), func.min(B.created_at))
        .where(B.status.in_(("pending", "running"))).group_by(B.status))}
    sheets = db.session.execute(select(func.count()).select_from(B).where(
        B.sheet_status.in_(("pending", "rendering")))).scalar_one()
    pending, oldest_event = db.session.execute(
        select(func.count(D.id), func.min(E.created)).select_from(D).join(E, E.id == D.event_id)
        .where(D.status == "pending")).one()
    db.session.rollback()
    for status in ("pending", "running"):
        BATCHES_QUEUED.labels(status).set(found.get(status, (0,))[0])
    COUPONS_QUEUED.set(sum(remaining for _, remaining, _ in found.values()))
    oldest = [o for _, _, o in found.values() if o is not None]
    BATCH_LAG.set(max(0.0, (now - min(oldest)).total_seconds()) if oldest else 0)
    SHEETS_QUEUED.set(sheets)
    WEBHOOKS_QUEUED.set(pending)
    WEBHOOK_LAG.set(max(0.0, (now - oldest_event).total_seconds()) if oldest_event else 0)


def record_queue_depths_now_and_then() -> None:
    """From the background loop: every REFRESH_SECONDS, so a scrape of the separate metrics
    address (served by gunicorn's master, which has no database) sees them too."""
    global _next
    if time.monotonic() >= _next:
        _next = time.monotonic() + REFRESH_SECONDS
        record_queue_depths()
