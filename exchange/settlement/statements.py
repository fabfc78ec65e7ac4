"""What each side sees of a period: the JSON statement (its files: `downloads.py`).

A merchant sees the obligations it is party to, signed from its side (positive: owed to you),
and the transfers it makes or receives; the operator sees every pair and every transfer. The
statement's SHA-256 covers its canonical content; each obligation carries a digest of the pair's
figures that both partners' statements show identically.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..extensions import db
from ..http.auth import Principal
from . import netting
from .figures import digest
from .models import Confirmation
from .netting import FLOW_KINDS, Flow, PairObligation, gross, positions
from .period_view import (
    held,
    latest_disputes,
    names,
    obligations_of,
    period_state,
    suspended,
    transfer_plan,
    zone,
)


def statement(principal: Principal, period_text: str) -> dict:
    state = period_state(period_text)
    me = None if principal.kind == "operator" else principal.merchant_id
    obligations = obligations_of(state, me)
    disputes = latest_disputes(state)
    transfers = transfer_plan(state, obligations, held(disputes), me)
    return _document(state, me, obligations, transfers, _Lookups.load(obligations, transfers, disputes))


def closing_statements(period_text: str) -> dict[int, dict]:
    """Every merchant's statement of a month being closed, by merchant id, as `statement` will
    show it once the close commits (no confirmations nor disputes yet): for the close's own
    events, from one read of the month's pairs for everyone."""
    state = period_state(period_text)
    obligations = obligations_of(state, None)
    transfers = transfer_plan(state, obligations, set(), None)
    lookups = _Lookups.load(obligations, transfers, {})
    pairs, moves = defaultdict(list), defaultdict(list)
    for o in obligations:
        for m in (o.a, o.b):
            pairs[m].append(o)
    for t in transfers:
        for m in (t.payer, t.payee):
            moves[m].append(t)
    return {me: _document(state, me, pairs[me], moves[me], lookups) for me in sorted(pairs)}


def obligation_seen_by_both(period_text: str, obligation_id: int, a: int, b: int) -> dict[int, dict]:
    """One obligation as each side's statement shows it now (its confirmations so far included)."""
    state = period_state(period_text)
    [o] = [o for o in obligations_of(state, a) if o.id == obligation_id]
    lookups = _Lookups.load([o], [], latest_disputes(state))
    return {me: _merchant_view(me, o, lookups) for me in (a, b)}


@dataclass(frozen=True)
class _Lookups:
    """What a statement reads beside its pairs: their confirmations and disputes, the suspended
    merchants, and everyone's names."""

    status: _Statuses
    disputes: dict
    who: dict[int, str]

    @classmethod
    def load(cls, obligations: list[PairObligation], transfers, disputes: dict) -> _Lookups:
        parties = {m for o in obligations for m in (o.a, o.b)}
        status = _Statuses(held(disputes), _confirmations(o.id for o in obligations if o.id), suspended(parties))
        return cls(status, disputes, names(parties | {m for t in transfers for m in (t.payer, t.payee)}))


def _document(state, me: int | None, obligations: list[PairObligation], transfers, lookups: _Lookups) -> dict:
    who = lookups.who
    s = state.settlement
    document = {
        "period": str(state.period),
        "status": state.status,
        "timezone": zone(),
        "starts_at": state.period.starts_at(zone()).astimezone(ZoneInfo(zone())).isoformat(),
        "ends_at": state.period.ends_at(zone()).astimezone(ZoneInfo(zone())).isoformat(),
        "closed_at": s.closed_at.isoformat() if s else None,
        "netting": state.mode,
        "min_transfer": state.min_transfer,
    }
    if me is None:
        document["obligations"] = [_pair_view(o, lookups) for o in obligations]
        document["positions"] = [{"currency": c, "merchant": {"id": m, "name": who.get(m)}, "net_position": v}
                                 for (c, m), v in sorted(positions(obligations).items())]
    else:
        document["merchant"] = {"id": me, "name": who[me] if me in who else names([me]).get(me)}
        document["obligations"] = [_merchant_view(me, o, lookups) for o in obligations]
        totals = defaultdict(lambda: {"net_position": 0, "held": 0})
        for view in document["obligations"]:
            totals[view["currency"]]["net_position"] += view["payable"]
            if view["status"] in ("disputed", "held"):
                totals[view["currency"]]["held"] += view["payable"]
        document["positions"] = [{"currency": c, **v} for c, v in sorted(totals.items())]
        document["net_position"] = (document["positions"][0]["net_position"] if len(totals) == 1
                                    else 0 if not totals else None)
    document["transfers"] = [{"currency": t.currency, "amount": t.amount,
                              "payer": {"id": t.payer, "name": who.get(t.payer)},
                              "payee": {"id": t.payee, "name": who.get(t.payee)},
                              "direction": None if me is None else ("pay" if t.payer == me else "receive")}
                             for t in transfers]
    count, total = gross(obligations)
    document["netting_summary"] = {
        "gross_obligations": {"count": count, "amount": total},
        "transfers": {"count": len(transfers), "amount": sum(t.amount for t in transfers)},
    }
    document["digest"] = digest(_figures(document))
    return document


def _figures(document: dict) -> dict:
    """What the statement's digest covers: its figures, not its workflow (confirmations,
    disputes and the transfers they hold back change nothing that was owed)."""
    keep = ("currency", "partner", "a", "b", "owed_to_you", "you_owe", "a_owes_b", "b_owes_a", "carried_in", "net",
            "carried_forward", "payable", "digest")
    return {"period": document["period"], "status": document["status"], "merchant": document.get("merchant"),
            "obligations": [{k: o[k] for k in keep if k in o} for o in document["obligations"]],
            "positions": [{k: p[k] for k in ("currency", "merchant", "net_position") if k in p}
                          for p in document["positions"]]}


def _confirmations(obligation_ids) -> dict[int, set[int]]:
    ids = list(obligation_ids)
    result: dict[int, set[int]] = defaultdict(set)
    if ids:
        for oid, merchant in db.session.execute(select(Confirmation.obligation_id, Confirmation.merchant_id)
                                                .where(Confirmation.obligation_id.in_(ids))):
            result[oid].add(merchant)
    return result


def _flow_view(flow: Flow) -> dict:
    return {**{k: getattr(flow, k) for k in FLOW_KINDS}, "total": flow.owed}


@dataclass(frozen=True)
class _Statuses:
    """Where each pair of a closed month stands: disputed (held for the operator), held (its net
    would go to a suspended merchant), confirmed by both sides, or awaiting confirmation."""

    disputed: set[int]
    confirmed: dict[int, set[int]]
    suspended: set[int]

    def of(self, o: PairObligation) -> str:
        if o.id is None:
            return "provisional"
        if o.id in self.disputed:
            return "disputed"
        if netting.payee(o) in self.suspended:
            return "held"
        return "confirmed" if {o.a, o.b} <= self.confirmed.get(o.id, set()) else "awaiting_confirmation"


def _dispute_view(d) -> dict | None:
    if d is None:
        return None
    return {"id": d.id, "status": d.status, "opened_by": d.opened_by_id, "reason": d.reason,
            "opened_at": d.opened_at.isoformat(), "resolution": d.resolution,
            "adjustment_amount": d.adjustment_amount, "adjustment_payer_id": d.adjustment_payer_id}


def _merchant_view(me: int, o: PairObligation, lookups: _Lookups) -> dict:
    who, status, disputes = lookups.who, lookups.status, lookups.disputes
    partner = o.b if me == o.a else o.a
    sign = 1 if me == o.b else -1  # stored figures are positive when a owes b
    done = status.confirmed.get(o.id, set())
    return {
        "id": o.id, "partner": {"id": partner, "name": who.get(partner)}, "currency": o.currency,
        "owed_to_you": _flow_view(o.flow(partner)), "you_owe": _flow_view(o.flow(me)),
        "carried_in": sign * o.carried_in, "net": sign * o.net, "carried_forward": sign * o.carried_out,
        "payable": sign * o.payable, "status": status.of(o),
        "confirmed_by_you": me in done, "confirmed_by_partner": partner in done,
        "dispute": _dispute_view(disputes.get(o.id)), "digest": o.digest,
    }


def _pair_view(o: PairObligation, lookups: _Lookups) -> dict:
    who, status, disputes = lookups.who, lookups.status, lookups.disputes
    return {
        "id": o.id, "currency": o.currency,
        "a": {"id": o.a, "name": who.get(o.a)}, "b": {"id": o.b, "name": who.get(o.b)},
        "a_owes_b": _flow_view(o.a_to_b), "b_owes_a": _flow_view(o.b_to_a),
        "carried_in": o.carried_in, "net": o.net, "carried_forward": o.carried_out, "payable": o.payable,
        "status": status.of(o), "confirmed_by": sorted(status.confirmed.get(o.id, set())),
        "dispute": _dispute_view(disputes.get(o.id)), "digest": o.digest,
    }
