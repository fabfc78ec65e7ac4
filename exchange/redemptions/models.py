from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from ..coupons.models import Coupon
from ..db.base import Base


class Redemption(Base):
    """One use of a coupon at the owner's till, priced by the terms in force at that moment."""

    __tablename__ = "redemptions"
    __table_args__ = (
        CheckConstraint("discount >= 0 AND discount <= order_amount", name="discount_in_range"),
        CheckConstraint("paid_amount = order_amount - discount", name="paid_is_order_less_discount"),
        CheckConstraint("refunded_amount >= 0 AND refunded_amount <= paid_amount", name="refund_in_range"),
        CheckConstraint("commission_clawed_back >= 0 AND commission_clawed_back <= commission_amount",
                        name="clawback_in_range"),
        CheckConstraint("cofunding_returned >= 0 AND cofunding_returned <= cofunding_amount",
                        name="cofunding_in_range"),
        Index("ix_redemptions_owner_time", "owner_id", "redeemed_at"),
        Index("ix_redemptions_distributor_time", "distributor_id", "redeemed_at"),
        Index("ix_redemptions_offer_customer", "offer_id", "customer_pseudonym"),
        # A capped partnership's month total starts from its redemptions so far (see store.py).
        Index("ix_redemptions_partnership_time", "partnership_id", "redeemed_at"),
        # A store's offline redemptions of a day (its risk limits, checked at sync).
        Index("ix_redemptions_store_offline", "store_id", "offline_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id"), index=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    distributor_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"))
    terms_id: Mapped[int] = mapped_column(ForeignKey("partnership_terms.id"))
    currency: Mapped[str] = mapped_column(String(3))
    order_amount: Mapped[int] = mapped_column(BigInteger)
    discount: Mapped[int] = mapped_column(BigInteger)
    paid_amount: Mapped[int] = mapped_column(BigInteger)
    commission_amount: Mapped[int] = mapped_column(BigInteger)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    commission_clawed_back: Mapped[int] = mapped_column(BigInteger, default=0)
    # Co-funded offers: the distributor's share of the discount, owed to the owner.
    cofunding_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    cofunding_returned: Mapped[int] = mapped_column(BigInteger, default=0)
    order_ref: Mapped[str | None] = mapped_column(String(64))
    customer_pseudonym: Mapped[str | None] = mapped_column(String(64))
    redeemed_at: Mapped[datetime]
    # A till's own time of a redemption it accepted offline and synced later (issue 17); the
    # redemption's period, ledger and caps follow `redeemed_at`, the exchange's acceptance.
    offline_at: Mapped[datetime | None]
    # Loaded with the row (a listing needs no query per redemption for it).
    coupon_code: Mapped[str] = column_property(
        select(Coupon.code).where(Coupon.id == coupon_id).correlate_except(Coupon).scalar_subquery())

    coupon: Mapped[Coupon] = relationship()
    reversals: Mapped[list[Reversal]] = relationship(order_by="Reversal.id")

    @property
    def status(self) -> str:
        if self.refunded_amount == 0:
            return "redeemed"
        return "reversed" if self.refunded_amount == self.paid_amount else "partially_reversed"


class Reversal(Base):
    """A refund of (part of) a redeemed order, clawing the commission back pro rata."""

    __tablename__ = "reversals"
    __table_args__ = (CheckConstraint("refund_amount > 0", name="refund_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    redemption_id: Mapped[int] = mapped_column(ForeignKey("redemptions.id"), index=True)
    refund_amount: Mapped[int] = mapped_column(BigInteger)
    commission_clawback: Mapped[int] = mapped_column(BigInteger)
    cofunding_returned: Mapped[int] = mapped_column(BigInteger, default=0)
    reason: Mapped[str] = mapped_column(String(200))
    use_restored: Mapped[bool]
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    reversed_at: Mapped[datetime]
    # A till's own time of a refund it took offline and synced later; its ledger posting and
    # period follow `reversed_at`, the exchange's acceptance, as a redemption's do.
    offline_at: Mapped[datetime | None]


class PartnershipMonth(Base):
    """A capped partnership's commission in one settlement month, kept as a running total so the
    monthly cap is enforced by one guarded UPDATE the database serialises (SPEC §4.8), not by
    summing redemptions that concurrent tills have not committed yet."""

    __tablename__ = "partnership_months"
    __table_args__ = (CheckConstraint("commission >= 0", name="commission_not_negative"),)

    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    # Commission less clawbacks of the month's redemptions (what the cap limits).
    commission: Mapped[int] = mapped_column(BigInteger)


class CustomerOfferUse(Base):
    """How many redemptions of an offer a customer (by pseudonym) has that are not fully
    refunded: the per-customer limit, enforced by a guarded UPDATE like the cap."""

    __tablename__ = "customer_offer_uses"
    __table_args__ = (CheckConstraint("redemptions >= 0", name="redemptions_not_negative"),)

    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), primary_key=True)
    customer_pseudonym: Mapped[str] = mapped_column(String(64), primary_key=True)
    redemptions: Mapped[int]
