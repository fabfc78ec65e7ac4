from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db.base import Base


class LedgerTransaction(Base):
    """One business event's postings. Never updated or deleted (database triggers refuse it);
    a correction is a new transaction that points at the one it corrects."""

    __tablename__ = "ledger_transactions"
    __table_args__ = (
        CheckConstraint("kind IN ('redemption', 'reversal', 'adjustment')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    redemption_id: Mapped[int | None] = mapped_column(ForeignKey("redemptions.id"), index=True)
    reversal_id: Mapped[int | None] = mapped_column(ForeignKey("reversals.id"), index=True)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"))
    currency: Mapped[str] = mapped_column(String(3))
    posted_at: Mapped[datetime] = mapped_column(index=True)
    description: Mapped[str] = mapped_column(String(200))

    entries: Mapped[list[LedgerEntry]] = relationship(back_populates="transaction", order_by="LedgerEntry.id")


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_nonzero"),
        Index("ix_ledger_entries_merchant_counterparty", "merchant_id", "counterparty_id", "account"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    counterparty_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    account: Mapped[str] = mapped_column(String(30))
    # Signed minor units: positive is owed *to* `merchant_id`, negative owed *by* it.
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")
