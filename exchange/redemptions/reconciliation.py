"""`check-ledger`: the ledger is whole — every transaction balances, every redemption and refund
that moved money has its transaction, and each redemption's entries say what the redemption says."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..ledger.models import LedgerEntry, LedgerTransaction
from .models import Redemption, Reversal


def check_ledger(session: Session) -> list[str]:
    """Every problem found, as sentences; an empty list means the ledger is whole."""
    problems = []
    unbalanced = session.execute(
        select(LedgerEntry.transaction_id, func.sum(LedgerEntry.amount))
        .group_by(LedgerEntry.transaction_id).having(func.sum(LedgerEntry.amount) != 0)).all()
    problems += [f"transaction {t} does not balance: entries sum to {s}" for t, s in unbalanced]
    for model, amount, column, kind in (
            (Redemption, Redemption.commission_amount + Redemption.cofunding_amount,
             LedgerTransaction.redemption_id, "redemption"),
            (Reversal, Reversal.commission_clawback + Reversal.cofunding_returned,
             LedgerTransaction.reversal_id, "reversal")):
        # A zero commission moves no money, so it has nothing to post.
        posted = select(column).where(LedgerTransaction.kind == kind, column.is_not(None))
        missing = session.scalars(select(model.id).where(amount != 0, model.id.not_in(posted))).all()
        problems += [f"{kind} {i} has no ledger transaction" for i in missing]
    # What the distributor nets on each redemption: commission less clawbacks, less co-funding.
    net = (Redemption.commission_amount - Redemption.commission_clawed_back
           - Redemption.cofunding_amount + Redemption.cofunding_returned)
    mismatched = session.execute(
        select(Redemption.id, net.label("net"), func.coalesce(func.sum(LedgerEntry.amount), 0))
        .outerjoin(LedgerTransaction, LedgerTransaction.redemption_id == Redemption.id)
        .outerjoin(LedgerEntry, (LedgerEntry.transaction_id == LedgerTransaction.id)
                   & (LedgerEntry.merchant_id == Redemption.distributor_id))
        .group_by(Redemption.id, net)).all()
    problems += [f"redemption {i}: ledger says {s}, redemption says {n}" for i, n, s in mismatched if s != n]
    return problems
