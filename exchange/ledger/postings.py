"""Double-entry postings for CPS commission, pure: every list of postings sums to zero."""

from __future__ import annotations

from dataclasses import dataclass

from .accounts import (
    ADJUSTMENT_PAYABLE,
    ADJUSTMENT_RECEIVABLE,
    COFUNDING_PAYABLE,
    COFUNDING_RECEIVABLE,
    COMMISSION_PAYABLE,
    COMMISSION_RECEIVABLE,
)


@dataclass(frozen=True)
class Posting:
    merchant_id: int
    counterparty_id: int
    account: str
    amount: int


def commission(owner_id: int, distributor_id: int, amount: int) -> list[Posting]:
    """The owner owes the distributor `amount` (negative `amount` undoes part of that)."""
    if amount == 0:
        return []
    return [Posting(distributor_id, owner_id, COMMISSION_RECEIVABLE, amount),
            Posting(owner_id, distributor_id, COMMISSION_PAYABLE, -amount)]


def cofunding(owner_id: int, distributor_id: int, amount: int) -> list[Posting]:
    """The distributor owes the owner `amount` of a co-funded discount."""
    if amount == 0:
        return []
    return [Posting(owner_id, distributor_id, COFUNDING_RECEIVABLE, amount),
            Posting(distributor_id, owner_id, COFUNDING_PAYABLE, -amount)]


def balanced(postings: list[Posting]) -> bool:
    return sum(p.amount for p in postings) == 0


def adjustment(payer_id: int, payee_id: int, amount: int) -> list[Posting]:
    """A correction (e.g. a resolved dispute): the payer owes the payee `amount` more."""
    if amount == 0:
        return []
    return [Posting(payee_id, payer_id, ADJUSTMENT_RECEIVABLE, amount),
            Posting(payer_id, payee_id, ADJUSTMENT_PAYABLE, -amount)]
