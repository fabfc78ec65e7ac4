from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db.base import Base

offer_distributors = Table(
    "offer_distributors",
    Base.metadata,
    Column("offer_id", ForeignKey("offers.id"), primary_key=True),
    Column("merchant_id", ForeignKey("merchants.id"), primary_key=True),
)


class Offer(Base):
    """A discount its owner gives at its own stores to customers its partners send.

    `distributors` empty means every merchant with an active partnership may hand it out.
    """

    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'paused', 'ended')", name="status_known"),
        CheckConstraint(
            "(discount_type = 'amount' AND discount_amount > 0 AND discount_rate_bps IS NULL) OR "
            "(discount_type = 'percent' AND discount_rate_bps BETWEEN 1 AND 10000 AND max_discount > 0)",
            name="discount_shape"),
        CheckConstraint("valid_until > valid_from", name="window"),
        CheckConstraint("uses_per_coupon >= 1", name="uses_positive"),
        CheckConstraint("max_coupons IS NULL OR coupons_issued <= max_coupons", name="max_coupons"),
        CheckConstraint("budget IS NULL OR budget_spent <= budget", name="budget"),
        CheckConstraint("min_spend >= 0", name="min_spend"),
        CheckConstraint("distributor_share_bps BETWEEN 0 AND 10000", name="share_range"),
        CheckConstraint("restore_use_on_refund IN ('full_refund', 'never')", name="restore_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    title: Mapped[str] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(String(500))
    discount_type: Mapped[str] = mapped_column(String(8))
    discount_amount: Mapped[int | None] = mapped_column(BigInteger)
    discount_rate_bps: Mapped[int | None]
    max_discount: Mapped[int | None] = mapped_column(BigInteger)
    min_spend: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    uses_per_coupon: Mapped[int]
    max_coupons: Mapped[int | None]
    budget: Mapped[int | None] = mapped_column(BigInteger)
    per_customer_limit: Mapped[int | None]
    # Co-funding: the share of each discount the distributor pays back to the owner.
    distributor_share_bps: Mapped[int] = mapped_column(default=0)
    # "full_refund": a full refund inside the offer's window gives the coupon use back; "never".
    restore_use_on_refund: Mapped[str] = mapped_column(String(12), default="full_refund")
    status: Mapped[str] = mapped_column(String(8))
    coupons_issued: Mapped[int] = mapped_column(default=0)
    budget_spent: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    distributors: Mapped[list[Merchant]] = relationship(  # noqa: F821
        secondary=offer_distributors, order_by="Merchant.id")
    owner: Mapped[Merchant] = relationship(foreign_keys=[owner_id])  # noqa: F821

    @property
    def discount(self) -> dict:
        if self.discount_type == "amount":
            return {"type": "amount", "amount": self.discount_amount}
        return {"type": "percent", "rate_bps": self.discount_rate_bps, "max_amount": self.max_discount}

    @property
    def distributor_ids(self) -> list[int]:
        return [m.id for m in self.distributors]
