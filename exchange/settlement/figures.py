"""A month's figures: netting the pairs' flows, the obligations' stored columns, and the one digest
convention both sides of a pair (and a statement) compute the same way. Pure: no database."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict

from . import netting
from .netting import FLOW_KINDS, Flow, PairObligation


class PositionsDoNotBalance(AssertionError):
    pass


def digest(document) -> str:
    """SHA-256 of a document's canonical JSON: both sides of a pair compute the same one."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()




def net(flows: dict[tuple[str, int, int], PairObligation], carried: list[PairObligation],
         minimum: int) -> list[PairObligation]:
    """Add what the previous month carried forward to the month's flows, then net each pair."""
    for o in carried:
        flows.setdefault((o.currency, o.a, o.b), PairObligation(o.currency, o.a, o.b)).carried_in = o.carried_in
    return netting.settle_pairs(sorted(flows.values(), key=lambda o: (o.currency, o.a, o.b)), minimum)


def assert_positions_balance(obligations: list[PairObligation]) -> None:
    totals: dict[str, int] = defaultdict(int)
    for (currency, _), value in netting.positions(obligations).items():
        totals[currency] += value
    unbalanced = {c: v for c, v in totals.items() if v}
    if unbalanced:
        raise PositionsDoNotBalance(f"net positions do not sum to zero: {unbalanced}")


FLOW_COLUMNS = [f"{kind}_{way}" for kind in FLOW_KINDS for way in ("a_to_b", "b_to_a")] + [
    "carried_in", "net", "carried_out", "payable"]


def columns(o: PairObligation) -> dict:
    ab, ba = o.a_to_b, o.b_to_a
    return {"commission_a_to_b": ab.commission, "commission_b_to_a": ba.commission,
            "clawback_a_to_b": ab.clawback, "clawback_b_to_a": ba.clawback,
            "cofunding_a_to_b": ab.cofunding, "cofunding_b_to_a": ba.cofunding,
            "cofunding_returned_a_to_b": ab.cofunding_returned, "cofunding_returned_b_to_a": ba.cofunding_returned,
            "adjustment_a_to_b": ab.adjustment, "adjustment_b_to_a": ba.adjustment,
            "carried_in": o.carried_in, "net": o.net, "carried_out": o.carried_out, "payable": o.payable}


def obligation_row(period: str, o: PairObligation) -> dict:
    """The obligation's stored columns, with the digest of its figures: `digest` of the list
    [period, currency, a, b, then the columns in FLOW_COLUMNS order]."""
    row = columns(o)
    row.update(currency=o.currency, merchant_a_id=o.a, merchant_b_id=o.b,
               digest=digest([period, o.currency, o.a, o.b, *(row[c] for c in FLOW_COLUMNS)]))
    return row


def from_row(row) -> PairObligation:
    """The obligation a stored `SettlementObligation` row holds."""
    o = PairObligation(row.currency, row.merchant_a_id, row.merchant_b_id,
                       Flow(**{k: getattr(row, f"{k}_a_to_b") for k in FLOW_KINDS}),
                       Flow(**{k: getattr(row, f"{k}_b_to_a") for k in FLOW_KINDS}), carried_in=row.carried_in)
    o.net, o.carried_out, o.payable = row.net, row.carried_out, row.payable
    return o


