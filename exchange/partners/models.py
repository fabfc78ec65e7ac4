from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db.base import Base

LIVE_STATUSES = ("proposed", "active", "paused")
_LIVE_SQL = "status IN ('proposed', 'active', 'paused')"
# The live-pair index's own predicate, to repeat in a query that looks a pair up: SQLite uses a
# partial index only when the query's terms include the index's WHERE word for word (`status =
# 'active'` alone does not qualify it), and otherwise scans every partnership.
LIVE_PAIR = text(f"partnerships.{_LIVE_SQL}")


class Partnership(Base):
    """Two merchants who agreed (or are agreeing) to hand out each other's coupons.

    `low_id`/`high_id` order the pair so the database itself allows one live partnership per
    pair, whoever proposed it.
    """

    __tablename__ = "partnerships"
    __table_args__ = (
        CheckConstraint("status IN ('proposed', 'active', 'declined', 'paused', 'terminated')",
                        name="status_known"),
        CheckConstraint("low_id < high_id", name="pair_ordered"),
        CheckConstraint("paused_by_id IS NULL OR status = 'paused'", name="paused_by_only_when_paused"),
        Index("uq_partnerships_live_pair", "low_id", "high_id", unique=True,
              sqlite_where=text(_LIVE_SQL), postgresql_where=text(_LIVE_SQL)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposer_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    low_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    high_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    status: Mapped[str] = mapped_column(String(12))
    paused_by_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    terms: Mapped[list[PartnershipTerms]] = relationship(
        back_populates="partnership", order_by="PartnershipTerms.version")

    def other_side(self, merchant_id: int) -> int:
        return self.partner_id if merchant_id == self.proposer_id else self.proposer_id


class PartnershipTerms(Base):
    """One version of a partnership's CPS terms. Immutable once accepted: new terms are a new
    version; the accepted one in force at an instant prices a redemption at that instant."""

    __tablename__ = "partnership_terms"
    __table_args__ = (
        UniqueConstraint("partnership_id", "version"),
        CheckConstraint("status IN ('proposed', 'accepted', 'declined', 'withdrawn', 'superseded')",
                        name="status_known"),
        CheckConstraint(
            "(commission_type = 'percent' AND rate_bps BETWEEN 0 AND 10000 AND amount IS NULL) OR "
            "(commission_type = 'fixed' AND amount >= 0 AND rate_bps IS NULL)", name="commission_shape"),
        CheckConstraint("monthly_cap IS NULL OR monthly_cap > 0", name="cap_positive"),
        CheckConstraint("ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at", name="window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"), index=True)
    version: Mapped[int]
    status: Mapped[str] = mapped_column(String(12))
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    commission_type: Mapped[str] = mapped_column(String(8))
    rate_bps: Mapped[int | None]
    amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    monthly_cap: Mapped[int | None] = mapped_column(BigInteger)
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    proposed_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    # The accepted version is in force over [effective_from, effective_until).
    effective_from: Mapped[datetime | None]
    effective_until: Mapped[datetime | None]

    partnership: Mapped[Partnership] = relationship(back_populates="terms")

    @property
    def commission(self) -> dict:
        if self.commission_type == "percent":
            return {"type": "percent", "rate_bps": self.rate_bps}
        return {"type": "fixed", "amount": self.amount}
