"""Writing to the ledger (append-only); `exchange.redemptions.reconciliation` checks it is whole."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from .. import clock
from ..db.statements import Compiled, insert_row
from .models import LedgerEntry, LedgerTransaction
from .postings import Posting, balanced


class UnbalancedPostings(AssertionError):
    pass


def hold_for_posting(session: Session) -> None:
    """Take the ledger's posting lock before reading the instant a posting will carry.

    A month's close locks the ledger (SHARE) and takes everything posted so far as its
    watermark. A posting whose instant was read *before* the close took that lock, but whose
    INSERT came after, would carry a time inside the closed month and yet fall outside its
    watermark: its sale counted in one month by the reports and in the next by the statements.
    Holding the lock first (ROW EXCLUSIVE: postings never wait for each other) means the close
    either waits for this transaction, or this transaction waits for the close and then reads
    a time after the month's end. On SQLite the write transaction already excludes the close.
    In a `prepared.pipelined` block it travels with the next statement."""
    if session.get_bind().dialect.name == "postgresql":
        _HOLD.run(session)


def posting_instant(session: Session) -> datetime:
    """The instant of a posting made in this transaction (see `hold_for_posting`)."""
    hold_for_posting(session)
    return clock.now()


def post(session: Session, *, kind: str, currency: str, postings: list[Posting], description: str,
         at: datetime, redemption_id: int | None = None, reversal_id: int | None = None,
         corrects_id: int | None = None) -> int:
    """Append one balanced transaction of `postings`, posted at `at` (the instant of the event
    it records, read after `hold_for_posting`); its id. Compiled INSERTs (it runs on every
    redemption), after flushing whatever the caller's unit of work still holds."""
    if not balanced(postings):
        raise UnbalancedPostings(postings)
    session.flush()
    txn_id = _INSERT_TRANSACTION.scalar(session, dict(
        kind=kind, currency=currency, posted_at=at, description=description,
        redemption_id=redemption_id, reversal_id=reversal_id, corrects_id=corrects_id,
    ))
    if postings:
        _INSERT_ENTRIES.run_many(session, [
            dict(transaction_id=txn_id, merchant_id=p.merchant_id, counterparty_id=p.counterparty_id,
                 account=p.account, amount=p.amount, currency=currency) for p in postings])
    return txn_id


_HOLD = Compiled(text("LOCK TABLE ledger_transactions IN ROW EXCLUSIVE MODE"))
_INSERT_TRANSACTION = insert_row(LedgerTransaction.__table__)
_INSERT_ENTRIES = insert_row(LedgerEntry.__table__)
