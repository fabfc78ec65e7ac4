"""Everything that must hold before a coupon is redeemed, in the order a cashier needs it.

Each refusal has its own problem `code` (SPEC §5) and tells the cashier what to do, but never
tells one merchant anything about another merchant's coupons.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, bindparam, case, or_, select

from ..auth import Principal
from ..coupons.models import Coupon
from ..coupons.state import CouponState, coupon_state
from ..errors import DomainError, Forbidden, NotFound, Unprocessable
from ..extensions import db
from ..merchants.models import Store
from ..money import format_money
from ..offers.models import Offer
from ..offers.pricing import discount_for
from ..partners.models import LIVE_PAIR, Partnership, PartnershipTerms
from ..prepared import Prepared
from ..settlement.periods import Period
from . import limits
from .pricing import commission_for


@dataclass(frozen=True, slots=True)
class Till:
    """Where the sale happens: a store and the merchant it belongs to."""

    store_id: int
    merchant_id: int


@dataclass(frozen=True, slots=True)
class Assessment:
    """A coupon that may be redeemed on this order, and what it costs whom. `coupon` is one row
    of the coupon with its offer, partnership and terms in force (see `_coupon_in_context`)."""

    coupon: tuple
    till: Till
    order_amount: int
    discount: int
    paid: int
    commission: int


def refuse(status: int, code: str, detail: str, **extra) -> DomainError:
    return DomainError(detail, code=code, status=status, **extra)


def refuse_unusable(state: CouponState) -> None:
    """The till's refusal of a coupon that cannot be used now (nothing if it can)."""
    if state.usable:
        return
    status, code, detail = state.refusal
    extra = {}
    if state.usable_from is not None:
        zone = current_app.config["SETTLEMENT_TZ"]
        local = state.usable_from.astimezone(ZoneInfo(zone))
        detail = f"This coupon can be used from {local:%Y-%m-%d %H:%M} ({zone})."
        extra["usable_from"] = local.isoformat()
    raise refuse(status, code, detail, **extra)


def coupon_in_context(coupon_id: int, now: datetime):
    """The row `assess` decides on, for the customer's page (one decision: `coupon_state`)."""
    return _coupon_in_context("id", False).first(db.session, {"coupon_id": coupon_id, "now": now})


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
    owner = db.session.scalar(select(Store.merchant_id).where(Store.id == store_id))
    if owner is None or owner != principal.merchant_id:
        raise NotFound("No such store.")
    return Till(store_id, owner)


@functools.cache
def _coupon_in_context(by: str, lock: bool):
    """One statement for everything a redemption checks: the coupon (by "code", "token" or
    "id"), its offer, and the active partnership of the offer's owner and the coupon's
    distributor with the terms in force at `:now` (NULL when there is none). Built once."""
    C, O, P, T = Coupon, Offer, Partnership, PartnershipTerms
    owner_first = O.owner_id < C.distributor_id
    now = bindparam("now")
    query = (
        select(C.id, C.code, C.distributor_id, C.customer_pseudonym, C.uses_left, C.expires_at,
               C.status.label("coupon_status"), O.id.label("offer_id"), O.owner_id,
               O.status.label("offer_status"), O.title, O.valid_from, O.min_spend, O.currency, O.discount_type,
               O.discount_amount, O.discount_rate_bps, O.max_discount, O.budget, O.budget_spent,
               O.per_customer_limit, O.distributor_share_bps, P.id.label("partnership_id"),
               T.id.label("terms_id"), T.commission_type, T.rate_bps, T.amount.label("fixed_amount"),
               T.monthly_cap, T.starts_at, T.ends_at)
        .join(O, O.id == C.offer_id)
        .outerjoin(P, and_(P.low_id == case((owner_first, O.owner_id), else_=C.distributor_id),
                           P.high_id == case((owner_first, C.distributor_id), else_=O.owner_id),
                           P.status == "active", LIVE_PAIR))
        .outerjoin(T, and_(T.partnership_id == P.id, T.effective_from <= now,
                           or_(T.effective_until.is_(None), T.effective_until > now)))
        .where({"code": C.code == bindparam("code"),
                "token": (C.id == bindparam("coupon_id")) & (C.token == bindparam("token")),
                "id": C.id == bindparam("coupon_id")}[by])
        .order_by(T.version)
    )
    # PostgreSQL: the coupon row stays locked until the redemption commits (SQLite's write
    # transaction already excludes every other writer).
    return Prepared(query.with_for_update(of=C) if lock else query)


def assess(till: Till, reference: tuple[str, dict], order_amount: int, *, at: datetime,
           lock: bool = False) -> Assessment:
    """Every check for redeeming the coupon `reference` names (from `scanning.coupon_reference`)
    on an order at `till` (from `till_store`), at the instant `at` (the redemption's own: the
    same instant prices it, dates it, counts it against the month's cap and posts it)."""
    now = at
    by, params = reference
    c = _coupon_in_context(by, lock).first(db.session, {**params, "now": now})
    if c is None:
        raise NotFound("No such coupon.", code="unknown_coupon")
    if c.owner_id != till.merchant_id:
        raise refuse(403, "not_accepted_here", "This coupon is not accepted at this store.")
    # The same decision the customer's page shows. The owner is active: its own till's key
    # authenticated this request, and a suspended merchant's keys are refused (auth).
    refuse_unusable(coupon_state(c, now, owner_active=True))
    if order_amount < c.min_spend:
        raise refuse(422, "below_min_spend",
                     f"This coupon needs an order of at least {format_money(c.min_spend, c.currency)}.",
                     min_spend=c.min_spend, currency=c.currency)
    if c.per_customer_limit is not None and c.customer_pseudonym is not None and limits.customer_uses(
            db.session, offer_id=c.offer_id, pseudonym=c.customer_pseudonym) >= c.per_customer_limit:
        raise customer_limit_reached()
    discount = discount_for(discount_type=c.discount_type, amount=c.discount_amount,
                            rate_bps=c.discount_rate_bps, max_amount=c.max_discount,
                            order_amount=order_amount)
    if c.budget is not None and c.budget_spent + discount > c.budget:
        raise budget_exhausted()
    paid = order_amount - discount
    commission = commission_for(c.commission_type, c.rate_bps, c.fixed_amount, paid)
    if c.monthly_cap is not None and limits.commission_so_far(
            db.session, partnership_id=c.partnership_id, **settlement_month(now)) + commission > c.monthly_cap:
        raise cap_reached()
    return Assessment(c, till, order_amount, discount, paid, commission)


def settlement_month(at: datetime) -> dict:
    """The settlement month `at` belongs to: its name and bounds (caps count what settles together)."""
    zone = current_app.config["SETTLEMENT_TZ"]
    period = Period.containing(at, zone)
    return {"period": str(period), "starts_at": period.starts_at(zone), "ends_at": period.ends_at(zone)}


# Refusals that a read check (here) and the guarded write (in services) both give.
def customer_limit_reached() -> DomainError:
    return refuse(422, "customer_limit_reached", "This customer has used this offer as often as it allows.")


def budget_exhausted() -> DomainError:
    return refuse(422, "budget_exhausted", "This offer's discount budget is used up.")


def cap_reached() -> DomainError:
    return refuse(422, "commission_cap_reached", "This partnership has reached its commission cap for the month.")
