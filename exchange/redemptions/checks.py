"""Everything that must hold before a coupon is redeemed, in the order a cashier needs it.

Each refusal has its own problem `code` (SPEC §5) and tells the cashier what to do, but never
tells one merchant anything about another merchant's coupons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from .. import clock
from ..auth import Principal
from ..coupons.models import Coupon
from ..errors import DomainError, Forbidden, NotFound, Unprocessable
from ..extensions import db
from ..merchants.models import Store
from ..offers.models import Offer
from ..offers.pricing import discount_for
from ..partners.models import Partnership, PartnershipTerms
from ..partners.services import active_partnership
from .models import Redemption
from .pricing import commission_for
from .scanning import find_coupon


@dataclass
class Assessment:
    coupon: Coupon
    offer: Offer
    store: Store
    partnership: Partnership
    terms: PartnershipTerms
    order_amount: int
    discount: int
    paid: int
    commission: int


def refuse(status: int, code: str, detail: str) -> DomainError:
    return DomainError(detail, code=code, status=status)


def till_store(principal: Principal, store_id: int | None) -> Store:
    """The store the sale happens at: a terminal's own, or one of the merchant's."""
    if principal.kind == "terminal":
        if store_id is not None and store_id != principal.store_id:
            raise Forbidden("This till belongs to another store.", code="wrong_store")
        store_id = principal.store_id
    elif store_id is None:
        raise Unprocessable("Say which store the sale is at.", code="validation_failed",
                            errors={"store_id": ["Required with a merchant key."]})
    store = db.session.get(Store, store_id)
    if store is None or store.merchant_id != principal.merchant_id:
        raise NotFound("No such store.")
    return store


def assess(store: Store, payload: str, order_amount: int, *, lock: bool = False) -> Assessment:
    """Every check for redeeming `payload` on an order at `store` (from `till_store`)."""
    coupon = find_coupon(payload, store.merchant_id, lock=lock)
    offer = coupon.offer
    now = clock.now()
    if offer.owner_id != store.merchant_id:
        raise refuse(403, "not_accepted_here", "This coupon is not accepted at this store.")
    if coupon.status == "revoked" or offer.status == "ended":
        raise refuse(410, "coupon_revoked", "This coupon has been withdrawn and cannot be used.")
    if now < offer.valid_from:
        raise refuse(422, "offer_not_started", "This coupon is not valid yet.")
    if now >= coupon.expires_at:
        raise refuse(410, "coupon_expired", "This coupon has expired.")
    if offer.status == "paused":
        raise refuse(409, "offer_paused", "This offer is paused by the store; it cannot be used now.")
    found = active_partnership(offer.owner_id, coupon.distributor_id, now)
    if found is None:
        raise refuse(403, "partnership_inactive",
                     "The partnership behind this coupon is not active; it cannot be used now.")
    partnership, terms = found
    if order_amount < offer.min_spend:
        raise refuse(422, "below_min_spend", f"This coupon needs an order of at least {offer.min_spend} "
                                              f"{offer.currency} minor units.")
    if coupon.uses_left <= 0:
        raise refuse(409, "coupon_exhausted", "This coupon has already been used.")
    _customer_limit(offer, coupon)
    discount = discount_for(discount_type=offer.discount_type, amount=offer.discount_amount,
                            rate_bps=offer.discount_rate_bps, max_amount=offer.max_discount,
                            order_amount=order_amount)
    if offer.budget is not None and offer.budget_spent + discount > offer.budget:
        raise refuse(422, "budget_exhausted", "This offer's discount budget is used up.")
    paid = order_amount - discount
    commission = commission_for(terms.commission_type, terms.rate_bps, terms.amount, paid)
    _monthly_cap(partnership, terms, commission, now)
    return Assessment(coupon, offer, store, partnership, terms, order_amount, discount, paid, commission)


def _customer_limit(offer: Offer, coupon: Coupon) -> None:
    if offer.per_customer_limit is None or coupon.customer_pseudonym is None:
        return
    used = db.session.scalar(select(func.count()).select_from(Redemption).where(
        Redemption.offer_id == offer.id, Redemption.customer_pseudonym == coupon.customer_pseudonym,
        Redemption.refunded_amount < Redemption.paid_amount))
    if used >= offer.per_customer_limit:
        raise refuse(422, "customer_limit_reached", "This customer has used this offer as often as it allows.")


def month_start(at: datetime) -> datetime:
    """The start of `at`'s settlement month, in the settlement timezone."""
    local = at.astimezone(ZoneInfo(current_app.config["SETTLEMENT_TZ"]))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(clock.UTC)


def _monthly_cap(partnership: Partnership, terms: PartnershipTerms, commission: int, now: datetime) -> None:
    if terms.monthly_cap is None:
        return
    owed = db.session.scalar(select(func.coalesce(func.sum(
        Redemption.commission_amount - Redemption.commission_clawed_back), 0)).where(
        Redemption.partnership_id == partnership.id, Redemption.redeemed_at >= month_start(now)))
    if owed + commission > terms.monthly_cap:
        raise refuse(422, "commission_cap_reached",
                     "This partnership has reached its commission cap for the month.")
