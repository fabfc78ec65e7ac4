"""Offline conflicts: what a till accepted offline and the exchange refused at sync, kept for the
merchant's report and told as an `offline.conflict` event (issue 17)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from .. import clock
from ..db.unit_of_work import unit_of_work
from ..events import views as events
from ..extensions import db
from ..http.auth import Principal
from .models import OfflineConflict

# The refusal codes an offline sync can meet that make a conflict, and the conflict's reason.
REASONS = {"offline_double_spend": "double_spend", "offline_limit_reached": "limit_exceeded"}


def record_conflict(principal: Principal, *, store_id: int, code: str, coupon_id: int | None,
                    order_ref: str | None, order_amount: int, idempotency_key: str, offline_at: datetime) -> None:
    """In a transaction of its own, after the refused redemption rolled back; once per
    Idempotency-Key (a retried sync is answered from the stored refusal and never gets here)."""
    with unit_of_work() as uow:
        session = uow.session
        exists = session.scalar(select(OfflineConflict.id).where(
            OfflineConflict.merchant_id == principal.merchant_id, OfflineConflict.idempotency_key == idempotency_key))
        if exists:
            return
        c = OfflineConflict(merchant_id=principal.merchant_id, store_id=store_id, till_id=principal.key_id
                            if principal.kind == "terminal" else None, coupon_id=coupon_id, reason=REASONS[code],
                            code=code, order_ref=order_ref, order_amount=order_amount,
                            idempotency_key=idempotency_key, offline_at=offline_at, detected_at=clock.now())
        session.add(c)
        session.flush()
        events.offline_conflict(session, c)


def list_conflicts(principal: Principal, store_id: int | None, after: int, limit: int) -> list[OfflineConflict]:
    query = select(OfflineConflict).where(OfflineConflict.merchant_id == principal.merchant_id,
                                          OfflineConflict.id > after)
    if store_id is not None:
        query = query.where(OfflineConflict.store_id == store_id)
    return list(db.session.scalars(query.order_by(OfflineConflict.id).limit(limit)))
