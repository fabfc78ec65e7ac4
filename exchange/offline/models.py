from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base


class StoreRiskLimits(Base):
    """What a store's tills may accept while offline (issue 17), set by its merchant. A store
    without a row has the defaults of `exchange.offline.limits.DEFAULTS`."""

    __tablename__ = "store_risk_limits"
    __table_args__ = (
        CheckConstraint("max_offline_redemptions_per_day >= 0", name="redemptions_not_negative"),
        CheckConstraint("max_offline_discount_per_day >= 0", name="discount_not_negative"),
        CheckConstraint("max_catalog_age_hours >= 1", name="age_positive"),
    )

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    max_offline_redemptions_per_day: Mapped[int]
    max_offline_discount_per_day: Mapped[int] = mapped_column(BigInteger)
    max_catalog_age_hours: Mapped[int]
    updated_at: Mapped[datetime]


class OfflineConflict(Base):
    """A redemption a till accepted offline that the exchange refused when it synced: the coupon
    was spent elsewhere meanwhile (a double spend), or the store's offline limits were passed.
    The customer already had the discount; the merchant sees these in its report."""

    __tablename__ = "offline_conflicts"
    __table_args__ = (
        CheckConstraint("reason IN ('double_spend', 'limit_exceeded')", name="reason_known"),
        Index("ix_offline_conflicts_merchant", "merchant_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    till_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"))
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupons.id"))
    reason: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(40))
    order_ref: Mapped[str | None] = mapped_column(String(64))
    order_amount: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(255))
    offline_at: Mapped[datetime]
    detected_at: Mapped[datetime]
