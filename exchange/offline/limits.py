"""A store's offline risk limits: read, set and reset by its merchant (docs/offline.md)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .. import clock
from ..db.unit_of_work import unit_of_work
from ..extensions import db
from ..http.auth import Principal
from ..merchants.services import own_store
from .models import StoreRiskLimits

# What a store has until its merchant says otherwise: a small shop's busy hour of outage.
DEFAULTS = {"max_offline_redemptions_per_day": 20, "max_offline_discount_per_day": 100_000,
            "max_catalog_age_hours": 24}
FIELDS = tuple(DEFAULTS)


def limits_of(session: Session, store_id: int) -> dict:
    row = session.get(StoreRiskLimits, store_id)
    values = {name: getattr(row, name) for name in FIELDS} if row else dict(DEFAULTS)
    return {"store_id": store_id, **values, "is_default": row is None,
            "updated_at": row.updated_at if row else None}


def get_limits(principal: Principal, store_id: int) -> dict:
    own_store(principal, store_id)
    return limits_of(db.session, store_id)


def set_limits(principal: Principal, store_id: int, values: dict) -> dict:
    """Set the store's limits; a field left out keeps its value (or its default)."""
    with unit_of_work() as uow:
        session = uow.session
        own_store(principal, store_id)
        row = session.get(StoreRiskLimits, store_id)
        if row is None:
            row = StoreRiskLimits(store_id=store_id, **DEFAULTS)
            session.add(row)
        for name in FIELDS:
            if name in values:
                setattr(row, name, values[name])
        row.updated_at = clock.now()
        session.flush()
        answer = limits_of(session, store_id)
    return answer


def reset_limits(principal: Principal, store_id: int) -> None:
    with unit_of_work() as uow:
        own_store(principal, store_id)
        row = uow.session.get(StoreRiskLimits, store_id)
        if row is not None:
            uow.session.delete(row)
