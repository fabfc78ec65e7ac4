"""Redeeming coupons exactly once, and reversing redemptions on refund (SPEC §4.1–4.3)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from .. import audit, clock, periods
from ..coupons.models import Coupon
from ..db.idempotency import Once
from ..db.statements import pipelined
from ..db.unit_of_work import unit_of_work
from ..errors import DomainError, Forbidden, NotFound, Unprocessable
from ..events import views as events
from ..extensions import db
from ..http.auth import Principal
from ..ledger import postings
from ..ledger.services import hold_for_posting, post
from ..money import apply_bps
from ..offers.models import Offer
from ..offers.pricing import full_discount
from ..offline import sync
from . import store
from .checks import Till, assess, budget_exhausted, cap_reached, customer_limit_reached, refuse, settlement_month
from .models import Redemption, Reversal
from .pricing import check_refund, clawback_for
from .scanning import coupon_reference

# What a refusal's problem carries that a till can use, also in verify's answer.
VERIFY_EXTRAS = ("min_spend", "usable_from")


def till_store(principal: Principal, store_id: int | None) -> Till:
    """The store the sale happens at: a terminal's own, or one of the merchant's."""
    if principal.kind == "terminal":
        if store_id is not None and store_id != principal.store_id:
            raise Forbidden("This till belongs to another store.", code="wrong_store")
        # A terminal key is made for one of its merchant's stores, and stores never change hands.
        return Till(principal.store_id, principal.merchant_id)
    if store_id is None:
        raise Unprocessable("Say which store the sale is at.", code="validation_failed",
                            errors={"store_id": ["Required with a merchant key."]})
    owner = store.store_owner(db.session, store_id)
    if owner is None or owner != principal.merchant_id:
        raise NotFound("No such store.")
    return Till(store_id, owner)


def coupon_at(payload: str, till: Till) -> tuple[str, dict]:
    """How to find the coupon the payload names (its signature checked), a pack resolved to its
    part redeemable at the till's merchant."""
    by, params = coupon_reference(payload)
    if by != "pack":
        return by, params
    part = store.pack_part(db.session, params["pack_id"], params["token"], till.merchant_id)
    if part is None:
        raise NotFound("No such coupon.", code="unknown_coupon")
    if part is False:
        raise DomainError("No coupon in this pack is accepted at this store.", code="not_accepted_here", status=403)
    return "id", {"coupon_id": part}


def verify(principal: Principal, payload: str, order_amount: int, store_id: int | None) -> dict:
    """What the till would get, without writing anything. A refused coupon is an answer
    (`valid: false` with the refusal's code); a wrong store is still an error."""
    till = till_store(principal, store_id)
    at, zone = clock.now(), periods.zone()
    try:
        loaded = store.load(db.session, coupon_at(payload, till), at=at, zone=zone)
        a = assess(loaded, till, order_amount, at=at, zone=zone)
    except DomainError as error:
        return {"valid": False, "code": error.code, "detail": error.detail, "discount": 0,
                "payable": order_amount, **{k: v for k, v in error.extra.items() if k in VERIFY_EXTRAS}}
    finally:
        db.session.rollback()
    return {"valid": True, "discount": a.discount, "payable": a.paid, "currency": a.coupon.currency,
            "coupon_code": a.coupon.code, "offer_id": a.coupon.offer_id, "title": a.coupon.title,
            "uses_left": a.coupon.uses_left}


def redeem(principal: Principal, payload: str, order_amount: int, order_ref: str | None,
           store_id: int | None, once: Once, offline_at: datetime | None = None) -> str:
    """Redeem one use of the coupon, in one transaction with its ledger postings, audit event
    and idempotency record. This is the money path: its statements are compiled once
    (`exchange.db.statements`), inside the same unit of work as everything else.

    `offline_at`: a redemption a till accepted offline, synced now (`exchange.offline.sync`); a
    double spend or a passed offline limit is refused with its own code and kept as a conflict."""
    till = till_store(principal, store_id)
    sync.check_time(offline_at)
    seen: dict = {}
    try:
        return _redeem(principal, payload, order_amount, order_ref, till, once, offline_at, seen)
    except DomainError as error:
        sync.note_conflict(principal, error, store_id=till.store_id, coupon_id=seen.get("coupon_id"),
                           order_ref=order_ref, order_amount=order_amount, idempotency_key=once.key,
                           offline_at=offline_at)
        raise


def _redeem(principal: Principal, payload: str, order_amount: int, order_ref: str | None, till: Till,
            once: Once, offline_at: datetime | None, seen: dict) -> str:
    # The signature is checked before the transaction: on SQLite writes queue one at a time,
    # and a request holds that queue only for what needs the database. (A refused token is
    # still answered from the key if the key was used: see `run_idempotently`.)
    reference = coupon_at(payload, till)
    zone = periods.zone()
    with unit_of_work(once=once, holds=[hold_for_posting]) as uow:
        session = uow.session
        at = clock.now()  # the instant everything this transaction writes carries
        loaded = store.load(session, reference, at=at, zone=zone, lock=True)
        seen["coupon_id"] = loaded.coupon.id if loaded is not None else None
        with sync.as_offline(offline_at):
            a = assess(loaded, till, order_amount, at=at, zone=zone)
            c = a.coupon
            # Exactly once, whatever the concurrency: the database takes the use only if one is left.
            if not store.take_a_use(session, c.id):
                raise refuse(409, "coupon_exhausted", "This coupon has already been used.")
        if offline_at is not None:
            sync.take_offline_allowance(session, a.till.store_id, offline_at, a.discount, zone)
        # The limits over many coupons (before the redemption row: a new counter starts from the
        # redemptions already on the books).
        _take_aggregate_limits(session, c, a, settlement_month(at, zone))
        r = Redemption(coupon_id=c.id, offer_id=c.offer_id, owner_id=c.owner_id,
                       distributor_id=c.distributor_id, store_id=a.till.store_id,
                       partnership_id=c.partnership_id, terms_id=c.terms_id, currency=c.currency,
                       order_amount=a.order_amount, discount=a.discount, paid_amount=a.paid,
                       commission_amount=a.commission, refunded_amount=0, commission_clawed_back=0,
                       cofunding_amount=apply_bps(a.discount, c.distributor_share_bps),
                       cofunding_returned=0, order_ref=order_ref,
                       customer_pseudonym=c.customer_pseudonym, redeemed_at=at,
                       offline_at=offline_at)
        # `r` never joins the session: one INSERT writes it, and it is only read afterwards.
        r.id = store.insert_redemption(session, r)
        r.coupon_code = c.code
        # Nothing below needs an answer before the stored response's: on PostgreSQL the ledger
        # entries, the audit event and the response travel in one round trip instead of three.
        with pipelined(session):
            post(session, kind="redemption", currency=r.currency, redemption_id=r.id, at=at,
                 postings=postings.commission(r.owner_id, r.distributor_id, r.commission_amount)
                 + postings.cofunding(r.owner_id, r.distributor_id, r.cofunding_amount),
                 description=f"commission (and co-funding) on redemption {r.id}")
            audit.record(session, actor=principal.actor, merchant_id=r.owner_id, action="coupon.redeemed",
                         subject_type="redemption", subject_id=r.id, coupon_id=r.coupon_id,
                         store_id=r.store_id)
            # The owner's event carries the owner's view: the answer a till of the owner gets.
            uow.answer(r, view=events.coupon_redeemed(session, r))
        # Only an offer with a budget keeps count of its spending: every till redeeming it updates
        # its row and holds it locked until commit (PostgreSQL), so the budget is taken last, and
        # an offer without one is never touched here (its tills then do not queue on one row).
        if c.budget is not None:
            left = store.spend_budget(session, c.offer_id, a.discount)
            if left is None:
                raise budget_exhausted()
            if left < full_discount(c) <= left + a.discount:
                # This discount took the budget below one coupon's full discount: the offer can
                # no longer honour every coupon (no more are issued), so its owner hears of it
                # once (offer.budget_exhausted) — not again for each smaller discount that
                # still fits a percentage offer's remainder.
                events.offer_moved(session, session.get(Offer, c.offer_id), "offer.budget_exhausted")
    return uow.response



def _take_aggregate_limits(session, c, a, month: dict) -> None:
    """A customer's uses of the offer and the partnership's monthly commission cap, each by a
    guarded write (see `limits`); only limited offers and capped partnerships keep counts."""
    if c.per_customer_limit is not None and c.customer_pseudonym is not None and not store.take_customer_use(
            session, offer_id=c.offer_id, pseudonym=c.customer_pseudonym, limit=c.per_customer_limit):
        raise customer_limit_reached()
    if c.monthly_cap is not None and not store.take_commission(
            session, partnership_id=c.partnership_id, commission=a.commission, cap=c.monthly_cap, **month):
        raise cap_reached()


def visible_redemption(principal: Principal, redemption_id: int, *, lock: bool = False) -> Redemption:
    query = select(Redemption).where(Redemption.id == redemption_id)
    r = db.session.scalar(query.with_for_update() if lock else query)
    allowed = r is not None and (
        (principal.kind == "merchant" and principal.merchant_id in (r.owner_id, r.distributor_id))
        or (principal.kind == "terminal" and r.store_id == principal.store_id))
    if not allowed:
        raise NotFound("No such redemption.")
    return r


def reverse(principal: Principal, redemption_id: int, refund_amount: int, reason: str, once: Once,
            offline_at: datetime | None = None) -> str:
    """Refund (part of) a redemption. `offline_at`: a refund a till took offline, synced now,
    checked against the same window as an offline redemption; booked at the exchange's time."""
    sync.check_time(offline_at, "refund")
    with unit_of_work(once=once, holds=[hold_for_posting]) as uow:
        session = uow.session
        at = clock.now()
        r = visible_redemption(principal, redemption_id, lock=True)
        if principal.merchant_id != r.owner_id:
            raise NotFound("No such redemption.")  # the distributor sees it but cannot refund it
        check_refund(paid=r.paid_amount, refunded_so_far=r.refunded_amount, refund=refund_amount,
                     currency=r.currency)
        clawback = clawback_for(commission=r.commission_amount, clawed_so_far=r.commission_clawed_back,
                                paid=r.paid_amount, refunded_so_far=r.refunded_amount, refund=refund_amount)
        returned = clawback_for(commission=r.cofunding_amount, clawed_so_far=r.cofunding_returned,
                                paid=r.paid_amount, refunded_so_far=r.refunded_amount, refund=refund_amount)
        full = r.refunded_amount + refund_amount == r.paid_amount
        restore = full and _restores_use(r, at)
        r.refunded_amount += refund_amount
        r.commission_clawed_back += clawback
        r.cofunding_returned += returned
        reversal = Reversal(redemption_id=r.id, refund_amount=refund_amount, commission_clawback=clawback,
                            cofunding_returned=returned,
                            reason=reason, use_restored=restore, store_id=principal.store_id or r.store_id,
                            reversed_at=at, offline_at=offline_at)
        session.add(reversal)
        session.flush()
        if restore:
            session.execute(update(Coupon).where(Coupon.id == r.coupon_id, Coupon.uses_left < Coupon.uses_total)
                            .values(uses_left=Coupon.uses_left + 1))
            session.execute(update(Offer).where(Offer.id == r.offer_id, Offer.budget.is_not(None))
                            .values(budget_spent=Offer.budget_spent - r.discount))
        _give_back_aggregate_limits(session, r, clawback, full)
        post(session, kind="reversal", currency=r.currency, redemption_id=r.id, reversal_id=reversal.id, at=at,
             postings=postings.commission(r.owner_id, r.distributor_id, -clawback)
             + postings.cofunding(r.owner_id, r.distributor_id, -returned),
             description=f"commission clawback on refund {reversal.id} of redemption {r.id}")
        audit.record(session, actor=principal.actor, merchant_id=r.owner_id, action="redemption.reversed",
                     subject_type="redemption", subject_id=r.id, reversal_id=reversal.id,
                     refund_amount=refund_amount, clawback=clawback)
        events.redemption_reversed(session, r, reversal)
        uow.answer(reversal)
    return uow.response


def _give_back_aggregate_limits(session, r: Redemption, clawback: int, full: bool) -> None:
    """A refund frees what the redemption took: its clawback from the cap of the month it was
    redeemed in, and — once fully refunded — its count against the customer's limit."""
    store.give_back_commission(session, partnership_id=r.partnership_id,
                                period=settlement_month(r.redeemed_at, periods.zone())["period"], clawback=clawback)
    if full and r.customer_pseudonym is not None:
        store.give_back_customer_use(session, offer_id=r.offer_id, pseudonym=r.customer_pseudonym)


def _restores_use(r: Redemption, at) -> bool:
    """A full refund inside the offer's window gives the customer the coupon use back."""
    offer = db.session.get(Offer, r.offer_id)
    return (offer.restore_use_on_refund == "full_refund" and offer.status != "ended"
            and at < offer.valid_until)


def list_redemptions(principal: Principal, role: str, start, end, after: int, limit: int) -> list[Redemption]:
    mine = Redemption.owner_id if role == "owner" else Redemption.distributor_id
    query = select(Redemption).where(mine == principal.merchant_id, Redemption.id > after)
    if principal.kind == "terminal":
        query = query.where(Redemption.store_id == principal.store_id)
    if start:
        query = query.where(Redemption.redeemed_at >= start)
    if end:
        query = query.where(Redemption.redeemed_at < end)
    return list(db.session.scalars(query.order_by(Redemption.id).limit(limit)))


