"""What partners owe each other for a period, and the fewest transfers that settle it (pure).

Each pair of merchants (a, b) with a < b has a flow each way: commission the payer owes, less
clawbacks; co-funding it owes, less what was returned; and adjustments. The bilateral net is
positive when a pays b. A pair's net below the minimum transfer is carried into the next period
instead of being paid. Positions (what each merchant is owed, negative when it owes) always sum
to zero; either plan — one transfer per pair, or multilateral netting of positions — settles
every position exactly.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

BILATERAL = "bilateral"
MULTILATERAL = "multilateral"
MODES = (BILATERAL, MULTILATERAL)


# The kinds of what one merchant owes another; stored as `<kind>_a_to_b` / `<kind>_b_to_a` columns.
FLOW_KINDS = ("commission", "clawback", "cofunding", "cofunding_returned", "adjustment")


@dataclass
class Flow:
    """What one merchant owes another in a period, by kind (all amounts ≥ 0 except adjustment)."""

    commission: int = 0
    clawback: int = 0
    cofunding: int = 0
    cofunding_returned: int = 0
    adjustment: int = 0

    @property
    def owed(self) -> int:
        return self.commission - self.clawback + self.cofunding - self.cofunding_returned + self.adjustment


@dataclass
class PairObligation:
    currency: str
    a: int
    b: int
    a_to_b: Flow = field(default_factory=Flow)
    b_to_a: Flow = field(default_factory=Flow)
    carried_in: int = 0  # from the previous period; positive when a owes b

    # Set by `settle_pairs`.
    net: int = 0
    carried_out: int = 0
    payable: int = 0

    def flow(self, payer: int) -> Flow:
        return self.a_to_b if payer == self.a else self.b_to_a


@dataclass(frozen=True, order=True)
class Transfer:
    currency: str
    payer: int
    payee: int
    amount: int


def pair(x: int, y: int) -> tuple[int, int]:
    return (x, y) if x < y else (y, x)


def settle_pairs(obligations: Iterable[PairObligation], min_transfer: int) -> list[PairObligation]:
    """Net each pair, and carry a net smaller than `min_transfer` into the next period."""
    settled = []
    for o in obligations:
        o.net = o.a_to_b.owed - o.b_to_a.owed + o.carried_in
        o.carried_out = o.net if abs(o.net) < min_transfer else 0
        o.payable = o.net - o.carried_out
        settled.append(o)
    return settled


def positions(obligations: Iterable[PairObligation]) -> dict[tuple[str, int], int]:
    """What each merchant is owed (negative: owes), per currency, from the pairs' payable nets."""
    result: dict[tuple[str, int], int] = defaultdict(int)
    for o in obligations:
        result[(o.currency, o.b)] += o.payable
        result[(o.currency, o.a)] -= o.payable
    return dict(result)


def bilateral_plan(obligations: Iterable[PairObligation]) -> list[Transfer]:
    """One transfer per pair that owes anything."""
    plan = []
    for o in obligations:
        if o.payable > 0:
            plan.append(Transfer(o.currency, o.a, o.b, o.payable))
        elif o.payable < 0:
            plan.append(Transfer(o.currency, o.b, o.a, -o.payable))
    return sorted(plan)


def multilateral_plan(balances: dict[tuple[str, int], int]) -> list[Transfer]:
    """Settle net positions with at most N−1 transfers per currency: the largest debtor pays the
    largest creditor as much as it can, until nobody is owed anything."""
    plan = []
    for currency in sorted({c for c, _ in balances}):
        # Heaps of (-amount, merchant): the largest first, ties to the lower merchant id.
        creditors = [(-v, m) for (c, m), v in balances.items() if c == currency and v > 0]
        debtors = [(v, m) for (c, m), v in balances.items() if c == currency and v < 0]
        if sum(-v for v, _ in creditors) != -sum(v for v, _ in debtors):
            raise ValueError(f"{currency} positions do not sum to zero")
        heapq.heapify(creditors)
        heapq.heapify(debtors)
        while creditors and debtors:
            owed, payee = heapq.heappop(creditors)
            owes, payer = heapq.heappop(debtors)
            amount = min(-owed, -owes)
            plan.append(Transfer(currency, payer, payee, amount))
            if -owed > amount:
                heapq.heappush(creditors, (owed + amount, payee))
            if -owes > amount:
                heapq.heappush(debtors, (owes + amount, payer))
    return plan


def payee(o: PairObligation) -> int | None:
    """Who receives the pair's payable net (None when nothing is payable)."""
    return o.b if o.payable > 0 else o.a if o.payable < 0 else None


def held_for(obligations: Iterable[PairObligation], suspended: set[int]) -> set[tuple[str, int, int]]:
    """Pairs whose payable net would go to a suspended merchant: held until it is reinstated.
    What a suspended merchant owes is still due (its partners are not made to wait)."""
    return {(o.currency, o.a, o.b) for o in obligations if payee(o) in suspended}


def plan(obligations: list[PairObligation], mode: str, held: set[tuple[str, int, int]] = frozenset()
         ) -> list[Transfer]:
    """The transfers that settle every pair not `held` (disputed pairs wait for the operator)."""
    payable = [o for o in obligations if (o.currency, o.a, o.b) not in held]
    if mode == BILATERAL:
        return bilateral_plan(payable)
    return multilateral_plan(positions(payable))


def gross(obligations: Iterable[PairObligation]) -> tuple[int, int]:
    """How many one-way debts there are, and their total, before any netting."""
    count = total = 0
    for o in obligations:
        for flow in (o.a_to_b, o.b_to_a):
            if flow.owed:
                count += 1
                total += abs(flow.owed)
    return count, total
