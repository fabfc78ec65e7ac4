"""A settlement period as the exchange knows it: closed (its fixed figures) or open (its figures
so far), its obligations, disputes and transfer plan. Reads only."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from .. import clock, periods
from ..errors import Unprocessable
from ..extensions import db
from ..merchants.models import Merchant
from ..periods import BadPeriod, Period
from . import netting, policy
from .figures import from_row, net, obligation_row
from .ledger_scope import Scope, pair_flows
from .models import Dispute, Settlement, SettlementObligation
from .netting import PairObligation


def zone() -> str:
    """The timezone months are cut in."""
    return periods.zone()


def parse_period(text: str) -> Period:
    try:
        return Period.parse(text)
    except BadPeriod as error:
        raise Unprocessable(str(error), code="invalid_period", errors={"period": [str(error)]}) from None


def settlement_of(period: Period) -> Settlement | None:
    return db.session.scalar(select(Settlement).where(Settlement.period == str(period)))


def last_closed() -> Settlement | None:
    return db.session.scalar(select(Settlement).order_by(Settlement.period.desc()).limit(1))


def carried_in(session, previous: Settlement | None) -> list[PairObligation]:
    if previous is None:
        return []
    rows = session.scalars(select(SettlementObligation).where(
        SettlementObligation.settlement_id == previous.id, SettlementObligation.carried_out != 0))
    return [PairObligation(r.currency, r.merchant_a_id, r.merchant_b_id, carried_in=r.carried_out) for r in rows]


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
    settlement = settlement_of(period)
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
    return PeriodState(period, None, scope, policy.netting, policy.min_transfer, skipped)


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
            o = from_row(row)
            o.id, o.digest = row.id, row.digest
            result.append(o)
        return result
    flows, _ = pair_flows(db.session, state.scope, merchant_id)
    last = last_closed()
    carried = []
    if last is not None and Period.parse(last.period) == state.period.previous():
        carried = [o for o in carried_in(db.session, last) if merchant_id in (None, o.a, o.b)]
    result = net(flows, carried, state.min_transfer)
    for o in result:
        o.id, o.digest = None, obligation_row(str(state.period), o)["digest"]
    return result


def latest_disputes(state: PeriodState) -> dict[int, Dispute]:
    """Each obligation's latest dispute, open or resolved, by obligation id. An open one is
    always the latest (a pair has at most one open at a time): that pair waits for the operator."""
    if state.settlement is None:
        return {}
    list_disputes = db.session.scalars(select(Dispute).join(SettlementObligation).where(
        SettlementObligation.settlement_id == state.settlement.id).order_by(Dispute.id))
    return {d.obligation_id: d for d in list_disputes}


def held(list_disputes: dict[int, Dispute]) -> set[int]:
    """The obligations held out of the transfers: those with an open dispute."""
    return {obligation_id for obligation_id, d in list_disputes.items() if d.status == "open"}


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




def closed_settlements() -> list[Settlement]:
    return list(db.session.scalars(select(Settlement).order_by(Settlement.period)))
