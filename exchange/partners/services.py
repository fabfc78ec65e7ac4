"""Partnerships: propose CPS terms, move through the lifecycle, renegotiate terms."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from .. import audit, clock
from ..categories.services import merchants_compete
from ..db.unit_of_work import unit_of_work
from ..errors import Conflict, Forbidden, NotFound, Unprocessable
from ..events import views as events
from ..extensions import db
from ..http.auth import Principal
from ..merchants.models import Merchant
from .lifecycle import Side, next_status
from .models import LIVE_PAIR, Partnership, PartnershipTerms


def _new_terms(partnership: Partnership, version: int, by: int, terms: dict) -> PartnershipTerms:
    commission = terms["commission"]
    if terms.get("ends_at") and terms["ends_at"] <= clock.now():
        raise Unprocessable("The terms would already have ended.", code="validation_failed",
                            errors={"ends_at": ["Must be in the future."]})
    return PartnershipTerms(
        partnership=partnership, version=version, status="proposed", proposed_by_id=by,
        commission_type=commission["type"], rate_bps=commission.get("rate_bps"),
        amount=commission.get("amount"), currency=terms["currency"],
        monthly_cap=terms.get("monthly_cap"), starts_at=terms.get("starts_at"),
        ends_at=terms.get("ends_at"), proposed_at=clock.now(),
    )


def propose_partnership(principal: Principal, partner_id: int, terms: dict) -> Partnership:
    me = principal.merchant_id
    if partner_id == me:
        raise Unprocessable("A merchant cannot partner with itself.", code="self_partnership")
    with unit_of_work() as uow:
        session = uow.session
        partner = session.get(Merchant, partner_id)
        if partner is None:
            raise NotFound("No such merchant.")
        if partner.status != "active":
            raise Conflict("This merchant is not accepting partnerships.", code="partner_unavailable")
        if merchants_compete(me, partner_id):
            raise Conflict("You sell in the same or competing categories: the exchange never pairs "
                           "competitors.", code="competitor")
        existing = session.scalar(select(Partnership.id).where(
            Partnership.low_id == min(me, partner_id), Partnership.high_id == max(me, partner_id),
            LIVE_PAIR))
        if existing:
            raise Conflict("You already have a live partnership with this merchant.",
                           code="partnership_exists", partnership_id=existing)
        at = clock.now()
        partnership = Partnership(proposer_id=me, partner_id=partner_id, low_id=min(me, partner_id),
                                  high_id=max(me, partner_id), status="proposed", created_at=at,
                                  updated_at=at)
        session.add(partnership)
        session.add(_new_terms(partnership, 1, me, terms))
        try:
            session.flush()
        except IntegrityError:
            raise Conflict("You already have a live partnership with this merchant.",
                           code="partnership_exists") from None
        audit.record(session, actor=principal.actor, merchant_id=me, action="partnership.proposed",
                     subject_type="partnership", subject_id=partnership.id, to_state="proposed",
                     partner_id=partner_id)
        events.partnership_moved(session, partnership, "partnership.proposed")
    return partnership


def list_partnerships(principal: Principal, status: str | None) -> list[Partnership]:
    query = select(Partnership).where(_mine(principal)).order_by(Partnership.id)
    if status:
        query = query.where(Partnership.status == status)
    return list(db.session.scalars(query))


def get_partnership(principal: Principal, partnership_id: int, *, lock: bool = False) -> Partnership:
    query = select(Partnership).where(Partnership.id == partnership_id, _mine(principal))
    partnership = db.session.scalar(query.with_for_update() if lock else query)
    if partnership is None:
        # The same answer whether it does not exist or belongs to others: no existence leak.
        raise NotFound("No such partnership.")
    return partnership


def move_partnership(principal: Principal, partnership_id: int, action: str) -> Partnership:
    me = principal.merchant_id
    with unit_of_work() as uow:
        session = uow.session
        p = get_partnership(principal, partnership_id, lock=True)
        before, terms = p.status, p.terms
        after = next_status(action, before,
                            Side(is_proposer=p.proposer_id == me, paused_it=p.paused_by_id == me))
        if action == "accept" and merchants_compete(p.proposer_id, p.partner_id):
            raise Conflict("Your categories now compete: the exchange never pairs competitors.",
                           code="competitor")
        at = clock.now()
        if action == "accept":
            _put_in_force(terms[0], at)
        elif action == "decline":
            terms[0].status, terms[0].decided_at = "declined", at
        elif action == "terminate":
            _end_terms(p, at)
        p.paused_by_id = me if action == "pause" else None
        p.status, p.updated_at = after, at
        audit.record(session, actor=principal.actor, merchant_id=me, action=f"partnership.{action}",
                     subject_type="partnership", subject_id=p.id, from_state=before, to_state=after)
        events.partnership_moved(session, p, f"partnership.{events.PAST_TENSE[action]}")
    return p


def propose_terms(principal: Principal, partnership_id: int, terms: dict) -> PartnershipTerms:
    with unit_of_work() as uow:
        session = uow.session
        p = get_partnership(principal, partnership_id, lock=True)
        if p.status not in ("active", "paused"):
            raise Conflict(f"New terms can be proposed only for an active or paused partnership, not "
                           f"a {p.status} one.", code="illegal_transition", current_status=p.status)
        if _pending(p):
            raise Conflict("Other new terms are waiting for an answer.", code="terms_pending",
                           version=_pending(p).version)
        new = _new_terms(p, p.terms[-1].version + 1, principal.merchant_id, terms)
        session.add(new)
        session.flush()
        audit.record(session, actor=principal.actor, merchant_id=principal.merchant_id,
                     action="terms.proposed", subject_type="partnership", subject_id=p.id,
                     to_state="proposed", version=new.version)
        events.terms_moved(session, p, new, "terms.proposed")
    return new


def decide_terms(principal: Principal, partnership_id: int, version: int, action: str) -> PartnershipTerms:
    me = principal.merchant_id
    with unit_of_work() as uow:
        session = uow.session
        p = get_partnership(principal, partnership_id, lock=True)
        terms = next((t for t in p.terms if t.version == version), None)
        if terms is None or version == 1:
            raise NotFound("No such terms proposal.")
        if terms.status != "proposed" or p.status not in ("active", "paused"):
            raise Conflict(f"These terms are {terms.status}.", code="illegal_transition",
                           current_status=terms.status)
        proposed_by_me = terms.proposed_by_id == me
        if (action == "withdraw") != proposed_by_me:
            raise Forbidden("Only the invited side accepts or declines terms; only their proposer "
                            "withdraws them.", code="not_your_move", current_status=terms.status)
        at = clock.now()
        if action == "accept":
            current = _in_force(p)
            if current is not None:
                current.status, current.effective_until = "superseded", at
            _put_in_force(terms, at)
        else:
            terms.status, terms.decided_at = {"decline": "declined", "withdraw": "withdrawn"}[action], at
        p.updated_at = at
        audit.record(session, actor=principal.actor, merchant_id=me, action=f"terms.{action}",
                     subject_type="partnership", subject_id=p.id, from_state="proposed",
                     to_state=terms.status, version=version)
        events.terms_moved(session, p, terms, f"terms.{terms.status}")
    return terms


def terms_in_force(partnership: Partnership, at: datetime) -> PartnershipTerms | None:
    """The accepted terms that priced events at `at` (history is kept, never rewritten)."""
    for terms in partnership.terms:
        if (terms.effective_from is not None and terms.effective_from <= at
                and (terms.effective_until is None or at < terms.effective_until)):
            return terms
    return None


def _mine(principal: Principal):
    return _mine_by_id(principal.merchant_id)


def _put_in_force(terms: PartnershipTerms, at: datetime) -> None:
    terms.status, terms.decided_at, terms.effective_from = "accepted", at, at


def _in_force(p: Partnership) -> PartnershipTerms | None:
    return next((t for t in p.terms if t.status == "accepted"), None)


def _pending(p: Partnership) -> PartnershipTerms | None:
    return next((t for t in p.terms if t.status == "proposed" and t.version > 1), None)


def _end_terms(p: Partnership, at: datetime) -> None:
    for terms in p.terms:
        if terms.status == "accepted":
            terms.effective_until = at
        elif terms.status == "proposed":
            terms.status, terms.decided_at = "withdrawn", at


def active_partnership(a: int, b: int, at: datetime) -> tuple[Partnership, PartnershipTerms] | None:
    """The partnership of `a` and `b` with the terms in force at `at`, if it is active then:
    status active, accepted terms in force, and inside their starts_at/ends_at window."""
    partnership = db.session.scalar(select(Partnership).where(
        Partnership.low_id == min(a, b), Partnership.high_id == max(a, b),
        Partnership.status == "active", LIVE_PAIR))
    if partnership is None:
        return None
    terms = terms_in_force(partnership, at)
    if terms is None or (terms.starts_at and at < terms.starts_at) or (terms.ends_at and at >= terms.ends_at):
        return None
    return partnership, terms


def active_partner_ids(merchant_id: int) -> set[int]:
    rows = db.session.execute(select(Partnership.proposer_id, Partnership.partner_id).where(
        _mine_by_id(merchant_id), Partnership.status == "active")).all()
    return {b if a == merchant_id else a for a, b in rows}


def _mine_by_id(merchant_id: int):
    return or_(Partnership.proposer_id == merchant_id, Partnership.partner_id == merchant_id)
