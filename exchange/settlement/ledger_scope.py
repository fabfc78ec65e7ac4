"""Which ledger transactions a period holds, and their sums by pair (SQL, streamed).

A closed period holds the transactions that existed when it closed (id ≤ its watermark) and were
posted before it ended, less those an earlier period already holds. So a reversal posted in
November of an October redemption is November's, and anything the ledger learns after a close —
even backdated — waits for the next close. Closing never edits a ledger row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, and_, case, cast, func, not_, select
from sqlalchemy.orm import Session

from ..ledger.accounts import (
    ADJUSTMENT_PAYABLE,
    ADJUSTMENT_RECEIVABLE,
    COFUNDING_PAYABLE,
    COFUNDING_RECEIVABLE,
    COMMISSION_PAYABLE,
    COMMISSION_RECEIVABLE,
)
from ..ledger.models import (
    LedgerEntry,
    LedgerTransaction,
)
from .netting import Flow, PairObligation, pair

RECEIVABLE = (COMMISSION_RECEIVABLE, COFUNDING_RECEIVABLE, ADJUSTMENT_RECEIVABLE)
entries = LedgerEntry.__table__
transactions = LedgerTransaction.__table__


@dataclass(frozen=True)
class Scope:
    ends_at: datetime
    through: int | None  # the watermark; None while the period is open (everything so far)
    previous_through: int | None = None
    previous_ends_at: datetime | None = None

    def clause(self):
        t = transactions.c
        conditions = [t.posted_at < self.ends_at]
        if self.through is not None:
            conditions.append(t.id <= self.through)
        if self.previous_through is not None:
            conditions.append(not_(and_(t.id <= self.previous_through, t.posted_at < self.previous_ends_at)))
        return and_(*conditions)


def pair_flows(session: Session, scope: Scope, merchant_id: int | None = None
               ) -> tuple[dict[tuple[str, int, int], PairObligation], int]:
    """Each pair's flows in the scope (only `merchant_id`'s pairs if given), and the number of
    receivable entries summed. One GROUP BY: its size is the number of pairs, not of entries."""
    e, t = entries.c, transactions.c
    query = (select(e.currency, e.merchant_id, e.counterparty_id, e.account, t.kind,
                    func.sum(e.amount), func.count())
             .select_from(entries.join(transactions, e.transaction_id == t.id))
             .where(e.account.in_(RECEIVABLE), scope.clause())
             .group_by(e.currency, e.merchant_id, e.counterparty_id, e.account, t.kind))
    if merchant_id is not None:
        query = query.where((e.merchant_id == merchant_id) | (e.counterparty_id == merchant_id))
    obligations: dict[tuple[str, int, int], PairObligation] = {}
    count = 0
    for currency, creditor, debtor, account, kind, total, n in session.execute(query):
        count += n
        a, b = pair(creditor, debtor)
        o = obligations.get((currency, a, b)) or obligations.setdefault(
            (currency, a, b), PairObligation(currency, a, b))
        add(o.flow(debtor), account, kind, int(total))  # PostgreSQL sums bigints as numeric
    return obligations, count


def add(flow: Flow, account: str, kind: str, total: int) -> None:
    """Book a receivable sum into the debtor's flow: redemptions owe, reversals give back."""
    if account == COMMISSION_RECEIVABLE and kind == "redemption":
        flow.commission += total
    elif account == COMMISSION_RECEIVABLE and kind == "reversal":
        flow.clawback -= total
    elif account == COFUNDING_RECEIVABLE and kind == "redemption":
        flow.cofunding += total
    elif account == COFUNDING_RECEIVABLE and kind == "reversal":
        flow.cofunding_returned -= total
    else:
        flow.adjustment += total


def merchant_lines(session: Session, scope: Scope, merchant_id: int) -> Iterator:
    """The merchant's side of every ledger transaction in the scope, oldest first, streamed:
    one row per transaction and counterparty with its commission, co-funding, adjustment and
    signed total (positive: owed to the merchant)."""
    from ..coupons.models import Coupon
    from ..redemptions.models import Redemption, Reversal

    e, t = entries.c, transactions.c

    def of(accounts):
        return cast(func.sum(case((e.account.in_(accounts), e.amount), else_=0)), BigInteger)

    lines = (select(t.id, t.kind, t.posted_at, t.redemption_id, t.reversal_id, t.description,
                    e.counterparty_id, e.currency,
                    of((COMMISSION_RECEIVABLE, COMMISSION_PAYABLE)).label("commission"),
                    of((COFUNDING_RECEIVABLE, COFUNDING_PAYABLE)).label("cofunding"),
                    of((ADJUSTMENT_RECEIVABLE, ADJUSTMENT_PAYABLE)).label("adjustment"),
                    cast(func.sum(e.amount), BigInteger).label("amount"))
             .select_from(entries.join(transactions, e.transaction_id == t.id))
             .where(e.merchant_id == merchant_id, scope.clause())
             .group_by(t.id, t.kind, t.posted_at, t.redemption_id, t.reversal_id, t.description,
                       e.counterparty_id, e.currency)
             .subquery())
    query = (select(lines, Redemption.owner_id, Redemption.order_amount, Redemption.discount,
                    Redemption.paid_amount, Redemption.order_ref, Redemption.redeemed_at,
                    Reversal.refund_amount, Coupon.code)
             .outerjoin(Redemption, Redemption.id == lines.c.redemption_id)
             .outerjoin(Reversal, Reversal.id == lines.c.reversal_id)
             .outerjoin(Coupon, Coupon.id == Redemption.coupon_id)
             .order_by(lines.c.id, lines.c.counterparty_id))
    yield from session.execute(query.execution_options(yield_per=2000))
