from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db.base import Base


class Settlement(Base):
    """A closed month. Never recomputed (SPEC §4.4): its obligations are fixed at close, and
    whatever the ledger learns later lands in the next period."""

    __tablename__ = "settlements"
    __table_args__ = (
        CheckConstraint("netting IN ('bilateral', 'multilateral')", name="netting_known"),
        CheckConstraint("min_transfer >= 0", name="min_transfer_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(7), unique=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    # The last ledger transaction that existed at close: the period holds the transactions up
    # to here that were posted before `ends_at` and were not in an earlier period.
    through_transaction_id: Mapped[int] = mapped_column(BigInteger)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("settlements.id"))
    netting: Mapped[str] = mapped_column(String(12))
    min_transfer: Mapped[int] = mapped_column(BigInteger)
    closed_at: Mapped[datetime]
    closed_by: Mapped[str] = mapped_column(String(40))
    entries: Mapped[int] = mapped_column(BigInteger)  # receivable ledger entries it holds
    digest: Mapped[str] = mapped_column(String(64))

    previous: Mapped[Settlement | None] = relationship(remote_side=[id])
    obligations: Mapped[list[SettlementObligation]] = relationship(
        order_by="SettlementObligation.id", back_populates="settlement")


class SettlementObligation(Base):
    """What a pair of merchants owed each other in a closed period (a < b), in one currency."""

    __tablename__ = "settlement_obligations"
    __table_args__ = (
        CheckConstraint("merchant_a_id < merchant_b_id", name="pair_ordered"),
        CheckConstraint("payable + carried_out = net", name="net_is_paid_or_carried"),
        UniqueConstraint("settlement_id", "currency", "merchant_a_id", "merchant_b_id"),
        Index("ix_settlement_obligations_b", "merchant_b_id", "settlement_id"),
        Index("ix_settlement_obligations_a", "merchant_a_id", "settlement_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlements.id"))
    currency: Mapped[str] = mapped_column(String(3))
    merchant_a_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    merchant_b_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    commission_a_to_b: Mapped[int] = mapped_column(BigInteger)
    commission_b_to_a: Mapped[int] = mapped_column(BigInteger)
    clawback_a_to_b: Mapped[int] = mapped_column(BigInteger)
    clawback_b_to_a: Mapped[int] = mapped_column(BigInteger)
    cofunding_a_to_b: Mapped[int] = mapped_column(BigInteger)
    cofunding_b_to_a: Mapped[int] = mapped_column(BigInteger)
    cofunding_returned_a_to_b: Mapped[int] = mapped_column(BigInteger)
    cofunding_returned_b_to_a: Mapped[int] = mapped_column(BigInteger)
    adjustment_a_to_b: Mapped[int] = mapped_column(BigInteger)
    adjustment_b_to_a: Mapped[int] = mapped_column(BigInteger)
    # Signed, positive when a owes b: brought in from the last period, the whole net, the part
    # too small to pay (carried into the next period) and the part to pay now.
    carried_in: Mapped[int] = mapped_column(BigInteger)
    net: Mapped[int] = mapped_column(BigInteger)
    carried_out: Mapped[int] = mapped_column(BigInteger)
    payable: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[str] = mapped_column(String(64))

    settlement: Mapped[Settlement] = relationship(back_populates="obligations")


class Confirmation(Base):
    """One side's acknowledgement of a closed pair obligation."""

    __tablename__ = "settlement_confirmations"
    __table_args__ = (UniqueConstraint("obligation_id", "merchant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    obligation_id: Mapped[int] = mapped_column(ForeignKey("settlement_obligations.id"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    confirmed_at: Mapped[datetime]


class Dispute(Base):
    """One side's objection to a pair obligation. While open, the pair is held out of the
    transfer plan; the operator resolves it, posting any correction as a ledger adjustment."""

    __tablename__ = "settlement_disputes"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'resolved')", name="status_known"),
        CheckConstraint("adjustment_amount >= 0", name="adjustment_not_negative"),
        # One open dispute per obligation at a time.
        Index("uq_settlement_disputes_open", "obligation_id", unique=True,
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    obligation_id: Mapped[int] = mapped_column(ForeignKey("settlement_obligations.id"), index=True)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(8))
    opened_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(String(500))
    adjustment_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    adjustment_payer_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"))
    adjustment_transaction_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"))

    obligation: Mapped[SettlementObligation] = relationship()
