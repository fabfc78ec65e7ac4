"""Confirming and disputing a closed month's obligations, and the operator's resolution: a
correction is posted to the ledger now and lands in the next open period as an adjustment."""

from __future__ import annotations

from sqlalchemy import select

from .. import audit, clock
from ..db.unit_of_work import unit_of_work
from ..errors import Conflict, NotFound, Unprocessable
from ..events import views as events
from ..extensions import db
from ..http.auth import Principal
from ..ledger import postings
from ..ledger.services import post, posting_instant
from . import netting, statements
from .models import Confirmation, Dispute, Settlement, SettlementObligation
from .period_view import period_state


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
    with unit_of_work() as uow:
        session = uow.session
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
            session.flush()
            events.statement_confirmed(session, settlement.period, statements.obligation_seen_by_both(
                settlement.period, o.id, o.merchant_a_id, o.merchant_b_id))
    return o


def open_dispute(principal: Principal, period_text: str, partner_id: int, currency: str | None,
                 reason: str) -> Dispute:
    settlement = _closed(period_text)
    with unit_of_work() as uow:
        session = uow.session
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


def list_disputes(principal: Principal, period_text: str) -> list[Dispute]:
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
    with unit_of_work() as uow:
        session = uow.session
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
