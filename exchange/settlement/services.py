"""Closing a month and what each side sees of it (SPEC §4.3–4.4, §5).

`close` runs in one transaction: it reads the period's ledger rows once (a GROUP BY by pair),
nets them, checks that positions sum to zero and writes the settlement and its obligations —
or nothing at all. A second close of the same month returns the first.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from .. import audit, clock
from ..auth import Principal
from ..errors import Conflict, NotFound, Unprocessable
from ..events import views as events
from ..extensions import db
from ..ledger import postings
from ..ledger.models import LedgerTransaction
from ..ledger.services import post, posting_instant
from ..merchants.models import Merchant
from ..money import format_money
from ..orm import transaction
from . import netting
from .ledger_scope import Scope, pair_flows, transactions
from .models import FLOW_KINDS, Confirmation, Dispute, Settlement, SettlementObligation
from .netting import Flow, PairObligation
from .periods import BadPeriod, Period


class PositionsDoNotBalance(AssertionError):
    pass


def zone() -> str:
    return current_app.config["SETTLEMENT_TZ"]


def parse_period(text: str) -> Period:
    try:
        return Period.parse(text)
    except BadPeriod as error:
        raise Unprocessable(str(error), code="invalid_period", errors={"period": [str(error)]}) from None


def digest(document) -> str:
    """SHA-256 of a document's canonical JSON: both sides of a pair compute the same one."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- closing ---------------------------------------------------------------------------------

def close(period_text: str, *, actor: str, netting_mode: str | None = None,
          min_transfer: int | None = None) -> tuple[Settlement, bool]:
    """Close an ended month; return the settlement and whether this call closed it."""
    period = parse_period(period_text)
    existing = _settlement_of(period)
    if existing is not None:  # closed already (even by a sandbox clock ahead of ours): the same answer
        _same_terms(existing, netting_mode, min_transfer)
        return existing, False
    if clock.now() < period.ends_at(zone()):
        local_end = period.ends_at(zone()).astimezone(ZoneInfo(zone())).isoformat()
        raise Unprocessable(f"{period} has not ended yet: it can be closed from {local_end}.",
                            code="period_not_ended")
    mode = netting_mode or current_app.config["SETTLEMENT_NETTING"]
    minimum = current_app.config["MIN_TRANSFER"] if min_transfer is None else min_transfer
    try:
        with transaction() as session:
            _hold_the_ledger(session)
            existing = _settlement_of(period)  # closed while we waited for the ledger
            if existing is not None:
                _same_terms(existing, netting_mode, min_transfer)
                return existing, False
            settlement = _close(session, period, mode, minimum, actor)
        return settlement, True
    except IntegrityError:
        # Another process closed this month between our check and our insert: theirs stands.
        existing = _settlement_of(period)
        if existing is None:
            raise
        return existing, False


def _settlement_of(period: Period) -> Settlement | None:
    return db.session.scalar(select(Settlement).where(Settlement.period == str(period)))


def last_closed() -> Settlement | None:
    return db.session.scalar(select(Settlement).order_by(Settlement.period.desc()).limit(1))


def _hold_the_ledger(session) -> None:
    """Let postings in flight finish, and hold new ones until the close commits, so that the
    watermark covers exactly what the close has read. SQLite's BEGIN IMMEDIATE already does."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().exec_driver_sql("LOCK TABLE ledger_transactions IN SHARE MODE")


def _same_terms(existing: Settlement, mode: str | None, minimum: int | None) -> None:
    if (mode not in (None, existing.netting)) or (minimum not in (None, existing.min_transfer)):
        raise Conflict(f"{existing.period} is already closed with {existing.netting} netting and a minimum "
                       f"transfer of {minimum_in_words(existing.min_transfer)}; a closed month is never "
                       "recomputed.", code="period_closed", netting=existing.netting,
                       min_transfer=existing.min_transfer)


def minimum_in_words(minor: int) -> str:
    """The minimum transfer holds in every currency, in its minor units: ¥1.00 (100 minor units)."""
    return f"{format_money(minor, 'CNY')} ({minor} minor units in any currency)"


def _close(session, period: Period, mode: str, minimum: int, actor: str) -> Settlement:
    previous = last_closed()
    if previous is not None and Period.parse(previous.period) > period:
        raise Conflict(f"{previous.period} is already closed; months close in order.", code="later_period_closed")
    _refuse_if_earlier_month_open(session, period, previous)
    through = session.scalar(select(func.coalesce(func.max(LedgerTransaction.id), 0)))
    scope = Scope(period.ends_at(zone()), through,
                  previous.through_transaction_id if previous else None, previous.ends_at if previous else None)
    flows, entry_count = pair_flows(session, scope)
    obligations = _net(flows, _carried_in(session, previous), minimum)
    _assert_positions_balance(obligations)

    rows = [_row(str(period), o) for o in obligations]
    settlement = Settlement(
        period=str(period), starts_at=period.starts_at(zone()), ends_at=period.ends_at(zone()),
        through_transaction_id=through, previous_id=previous.id if previous else None, netting=mode,
        min_transfer=minimum, closed_at=clock.now(), closed_by=actor, entries=entry_count,
        digest=digest({"period": str(period), "netting": mode, "min_transfer": minimum,
                       "obligations": [r["digest"] for r in rows]}))
    session.add(settlement)
    session.flush()
    if rows:
        for row in rows:
            row["settlement_id"] = settlement.id
        session.execute(insert(SettlementObligation.__table__), rows)
    audit.record(session, actor=actor, action="settlement.closed", subject_type="settlement",
                 subject_id=str(period), from_state="open", to_state="closed", pairs=len(rows),
                 entries=entry_count, netting=mode, min_transfer=minimum)
    events.settlement_closed(session, settlement, rows)
    return settlement


def _refuse_if_earlier_month_open(session, period: Period, previous: Settlement | None) -> None:
    """Activity of a month before this one that no close holds yet: close that month first.
    (Late postings into an already closed month are the next period's, by design.)"""
    t = transactions.c
    query = select(func.min(t.posted_at)).where(t.posted_at < period.starts_at(zone()))
    if previous is not None:
        query = query.where(t.posted_at >= previous.ends_at)
    earliest = session.scalar(query)
    if earliest is not None:
        month = Period.containing(earliest, zone())
        raise Conflict(f"{month} has ledger activity and is not closed yet: close {month} first.",
                       code="earlier_period_open", earliest_open_period=str(month))


def _net(flows: dict[tuple[str, int, int], PairObligation], carried: list[PairObligation],
         minimum: int) -> list[PairObligation]:
    """Add what the previous month carried forward to the month's flows, then net each pair."""
    for o in carried:
        flows.setdefault((o.currency, o.a, o.b), PairObligation(o.currency, o.a, o.b)).carried_in = o.carried_in
    return netting.settle_pairs(sorted(flows.values(), key=lambda o: (o.currency, o.a, o.b)), minimum)


def _carried_in(session, previous: Settlement | None) -> list[PairObligation]:
    if previous is None:
        return []
    rows = session.scalars(select(SettlementObligation).where(
        SettlementObligation.settlement_id == previous.id, SettlementObligation.carried_out != 0))
    return [PairObligation(r.currency, r.merchant_a_id, r.merchant_b_id, carried_in=r.carried_out) for r in rows]


def _assert_positions_balance(obligations: list[PairObligation]) -> None:
    totals: dict[str, int] = defaultdict(int)
    for (currency, _), value in netting.positions(obligations).items():
        totals[currency] += value
    unbalanced = {c: v for c, v in totals.items() if v}
    if unbalanced:
        raise PositionsDoNotBalance(f"net positions do not sum to zero: {unbalanced}")


FLOW_COLUMNS = [f"{kind}_{way}" for kind in FLOW_KINDS for way in ("a_to_b", "b_to_a")] + [
    "carried_in", "net", "carried_out", "payable"]


def _columns(o: PairObligation) -> dict:
    ab, ba = o.a_to_b, o.b_to_a
    return {"commission_a_to_b": ab.commission, "commission_b_to_a": ba.commission,
            "clawback_a_to_b": ab.clawback, "clawback_b_to_a": ba.clawback,
            "cofunding_a_to_b": ab.cofunding, "cofunding_b_to_a": ba.cofunding,
            "cofunding_returned_a_to_b": ab.cofunding_returned, "cofunding_returned_b_to_a": ba.cofunding_returned,
            "adjustment_a_to_b": ab.adjustment, "adjustment_b_to_a": ba.adjustment,
            "carried_in": o.carried_in, "net": o.net, "carried_out": o.carried_out, "payable": o.payable}


def _row(period: str, o: PairObligation) -> dict:
    """The obligation's stored columns, with the digest of its figures: SHA-256 of the JSON list
    [period, currency, a, b, then the columns in FLOW_COLUMNS order]."""
    row = _columns(o)
    figures = [period, o.currency, o.a, o.b, *(row[c] for c in FLOW_COLUMNS)]
    row.update(currency=o.currency, merchant_a_id=o.a, merchant_b_id=o.b,
               digest=hashlib.sha256(json.dumps(figures, ensure_ascii=False).encode()).hexdigest())
    return row


def _from_row(row: SettlementObligation) -> PairObligation:
    o = PairObligation(row.currency, row.merchant_a_id, row.merchant_b_id,
                       Flow(**{k: getattr(row, f"{k}_a_to_b") for k in FLOW_KINDS}),
                       Flow(**{k: getattr(row, f"{k}_b_to_a") for k in FLOW_KINDS}), carried_in=row.carried_in)
    o.net, o.carried_out, o.payable = row.net, row.carried_out, row.payable
    return o


# --- reading ---------------------------------------------------------------------------------

@dataclass
class PeriodState:
    """A period as the service knows it: closed (fixed figures) or open (figures so far)."""

    period: Period
    settlement: Settlement | None
    scope: Scope
    mode: str
    min_transfer: int
    skipped: bool = False  # never closed, and a later month is: it had no activity

    @property
    def status(self) -> str:
        return "closed" if self.settlement else "skipped" if self.skipped else "open"


def started(period: Period) -> Period:
    """`period`, if it has started — or is the month after the last closed one (a sandbox clock
    may have closed the current month, whose late events then belong to the next)."""
    if clock.now() < period.starts_at(zone()):
        last = last_closed()
        if last is None or Period.parse(last.period).next() != period:
            raise Unprocessable(f"{period} has not started yet.", code="period_not_started")
    return period


def period_state(period_text: str) -> PeriodState:
    period = started(parse_period(period_text))
    settlement = _settlement_of(period)
    if settlement is not None:
        previous = settlement.previous
        scope = Scope(settlement.ends_at, settlement.through_transaction_id,
                      previous.through_transaction_id if previous else None, previous.ends_at if previous else None)
        return PeriodState(period, settlement, scope, settlement.netting, settlement.min_transfer)
    last = last_closed()
    ends_at = period.ends_at(zone())
    skipped = last is not None and Period.parse(last.period) > period
    if skipped:
        ends_at = period.starts_at(zone())  # a month skipped over (it had no activity): empty
    scope = Scope(ends_at, None, last.through_transaction_id if last else None, last.ends_at if last else None)
    return PeriodState(period, None, scope, current_app.config["SETTLEMENT_NETTING"],
                       current_app.config["MIN_TRANSFER"], skipped)


def obligations_of(state: PeriodState, merchant_id: int | None) -> list[PairObligation]:
    """The period's pair obligations (only `merchant_id`'s if given), with stored ids and digests
    attached for a closed period."""
    if state.settlement is not None:
        query = select(SettlementObligation).where(SettlementObligation.settlement_id == state.settlement.id)
        if merchant_id is not None:
            query = query.where((SettlementObligation.merchant_a_id == merchant_id)
                                | (SettlementObligation.merchant_b_id == merchant_id))
        result = []
        for row in db.session.scalars(query.order_by(SettlementObligation.id)):
            o = _from_row(row)
            o.id, o.digest = row.id, row.digest
            result.append(o)
        return result
    flows, _ = pair_flows(db.session, state.scope, merchant_id)
    last = last_closed()
    carried = []
    if last is not None and Period.parse(last.period) == state.period.previous():
        carried = [o for o in _carried_in(db.session, last) if merchant_id in (None, o.a, o.b)]
    result = _net(flows, carried, state.min_transfer)
    for o in result:
        o.id, o.digest = None, _row(str(state.period), o)["digest"]
    return result


def latest_disputes(state: PeriodState) -> dict[int, Dispute]:
    """Each obligation's latest dispute, open or resolved, by obligation id. An open one is
    always the latest (a pair has at most one open at a time): that pair waits for the operator."""
    if state.settlement is None:
        return {}
    disputes = db.session.scalars(select(Dispute).join(SettlementObligation).where(
        SettlementObligation.settlement_id == state.settlement.id).order_by(Dispute.id))
    return {d.obligation_id: d for d in disputes}


def held(disputes: dict[int, Dispute]) -> set[int]:
    """The obligations held out of the transfers: those with an open dispute."""
    return {obligation_id for obligation_id, d in disputes.items() if d.status == "open"}


def transfer_plan(state: PeriodState, obligations: list[PairObligation], held_ids: set[int],
                  merchant_id: int | None) -> list[netting.Transfer]:
    """The transfers `merchant_id` makes or receives (all, for None). `obligations` are its
    own; multilateral netting needs everyone's. Disputed pairs (`held_ids`) and pairs that
    would pay a suspended merchant are left out until the dispute is resolved or the merchant
    reinstated."""
    if state.mode == netting.MULTILATERAL and merchant_id is not None:
        obligations = obligations_of(state, None)
    held_pairs = {(o.currency, o.a, o.b) for o in obligations if o.id in held_ids}
    held_pairs |= netting.held_for(obligations, suspended({m for o in obligations for m in (o.a, o.b)}))
    plan = netting.plan(obligations, state.mode, held_pairs)
    return [t for t in plan if merchant_id in (None, t.payer, t.payee)]


def suspended(ids) -> set[int]:
    """Which of these merchants are suspended now (their receipts wait: SPEC §4, docs/settlement.md)."""
    ids = set(ids)
    if not ids:
        return set()
    return set(db.session.scalars(select(Merchant.id).where(Merchant.id.in_(ids), Merchant.status == "suspended")))


def names(ids) -> dict[int, str]:
    ids = set(ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(Merchant.id, Merchant.name).where(Merchant.id.in_(ids))).all())


# --- confirming and disputing -----------------------------------------------------------------

def _closed(period_text: str) -> Settlement:
    state = period_state(period_text)
    if state.skipped:
        raise Conflict(f"{state.period} was never closed: it had no activity, so there is nothing to confirm "
                       "or dispute.", code="period_skipped")
    if state.settlement is None:
        raise Conflict(f"{state.period} is not closed yet: obligations can be confirmed or disputed "
                       "once the operator closes the month.", code="period_open")
    return state.settlement


def _own_obligation(settlement: Settlement, merchant_id: int, partner_id: int, currency: str | None,
                    *, lock: bool = False) -> SettlementObligation:
    a, b = netting.pair(merchant_id, partner_id)
    query = select(SettlementObligation).where(
        SettlementObligation.settlement_id == settlement.id, SettlementObligation.merchant_a_id == a,
        SettlementObligation.merchant_b_id == b)
    if currency is not None:
        query = query.where(SettlementObligation.currency == currency)
    rows = db.session.scalars(query).all()
    if not rows or merchant_id == partner_id:
        raise NotFound(f"You have no obligation with merchant {partner_id} in {settlement.period}.")
    if len(rows) > 1:
        raise Unprocessable("This pair has obligations in several currencies: say which.",
                            code="validation_failed", errors={"currency": ["Required for this pair."]})
    return rows[0]


def confirm(principal: Principal, period_text: str, partner_id: int, currency: str | None) -> SettlementObligation:
    settlement = _closed(period_text)
    with transaction() as session:
        o = _own_obligation(settlement, principal.merchant_id, partner_id, currency)
        if session.scalar(select(Dispute.id).where(Dispute.obligation_id == o.id, Dispute.status == "open")):
            raise Conflict("This obligation is disputed; the operator resolves it first.", code="disputed")
        done = session.scalar(select(Confirmation).where(Confirmation.obligation_id == o.id,
                                                         Confirmation.merchant_id == principal.merchant_id))
        if done is None:
            session.add(Confirmation(obligation_id=o.id, merchant_id=principal.merchant_id,
                                     confirmed_at=clock.now()))
            audit.record(session, actor=principal.actor, merchant_id=principal.merchant_id,
                         action="settlement.confirmed", subject_type="obligation", subject_id=o.id,
                         period=settlement.period, partner_id=partner_id)
            events.statement_confirmed(session, o, settlement.period, by=principal.merchant_id)
    return o


def open_dispute(principal: Principal, period_text: str, partner_id: int, currency: str | None,
                 reason: str) -> Dispute:
    settlement = _closed(period_text)
    with transaction() as session:
        o = _own_obligation(settlement, principal.merchant_id, partner_id, currency)
        if session.scalar(select(Dispute.id).where(Dispute.obligation_id == o.id, Dispute.status == "open")):
            raise Conflict("This obligation is already disputed.", code="already_disputed")
        if session.scalar(select(Confirmation.id).where(Confirmation.obligation_id == o.id,
                                                         Confirmation.merchant_id == principal.merchant_id)):
            raise Conflict("You confirmed this obligation; ask the operator for an adjustment instead.",
                           code="already_confirmed")
        dispute = Dispute(obligation_id=o.id, opened_by_id=principal.merchant_id, reason=reason, status="open",
                          opened_at=clock.now(), adjustment_amount=0)
        session.add(dispute)
        session.flush()
        audit.record(session, actor=principal.actor, merchant_id=principal.merchant_id, action="settlement.disputed",
                     subject_type="dispute", subject_id=dispute.id, to_state="open", period=settlement.period,
                     partner_id=partner_id)
        events.dispute_moved(session, dispute, "dispute.opened")
    return dispute


def disputes(principal: Principal, period_text: str) -> list[Dispute]:
    settlement = _closed(period_text)
    query = select(Dispute).join(SettlementObligation).where(SettlementObligation.settlement_id == settlement.id)
    if principal.kind != "operator":
        query = query.where((SettlementObligation.merchant_a_id == principal.merchant_id)
                            | (SettlementObligation.merchant_b_id == principal.merchant_id))
    return list(db.session.scalars(query.order_by(Dispute.id)))


def resolve(principal: Principal, period_text: str, dispute_id: int, resolution: str,
            payer_id: int | None, amount: int) -> Dispute:
    """The operator settles a dispute; a correction is posted to the ledger now, so it lands in
    the next open period as an adjustment. The closed figures are never edited."""
    settlement = _closed(period_text)
    with transaction() as session:
        dispute = session.scalar(select(Dispute).join(SettlementObligation).where(
            Dispute.id == dispute_id, SettlementObligation.settlement_id == settlement.id).with_for_update())
        if dispute is None:
            raise NotFound("No such dispute in this period.")
        if dispute.status != "open":
            if (dispute.resolution, dispute.adjustment_amount, dispute.adjustment_payer_id if amount else None) == (
                    resolution, amount, payer_id if amount else None):
                return dispute  # a retry of the same resolution: the same answer, no second adjustment
            raise Conflict("This dispute is already resolved, differently.", code="already_resolved")
        o = dispute.obligation
        if amount and payer_id not in (o.merchant_a_id, o.merchant_b_id):
            raise Unprocessable("The adjustment's payer must be one of the pair.", code="validation_failed",
                                errors={"adjustment.payer_id": [f"One of {o.merchant_a_id}, {o.merchant_b_id}."]})
        if amount:
            payee_id = o.merchant_b_id if payer_id == o.merchant_a_id else o.merchant_a_id
            txn_id = post(session, kind="adjustment", currency=o.currency, at=posting_instant(session),
                       postings=postings.adjustment(payer_id, payee_id, amount),
                       description=f"resolution of dispute {dispute.id} on {settlement.period} "
                                   f"({o.merchant_a_id}-{o.merchant_b_id})")
            dispute.adjustment_transaction_id = txn_id
            dispute.adjustment_payer_id = payer_id
        dispute.adjustment_amount = amount
        dispute.status, dispute.resolution, dispute.resolved_at = "resolved", resolution, clock.now()
        audit.record(session, actor=principal.actor, action="settlement.dispute_resolved", subject_type="dispute",
                     subject_id=dispute.id, from_state="open", to_state="resolved", period=settlement.period,
                     adjustment=amount, payer_id=payer_id)
        events.dispute_moved(session, dispute, "dispute.resolved")
    return dispute


def closed_settlements() -> list[Settlement]:
    return list(db.session.scalars(select(Settlement).order_by(Settlement.period)))
