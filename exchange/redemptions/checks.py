"""Everything that must hold before a coupon is redeemed, in the order a cashier needs it: pure
functions of one loaded row (`store.load`), unit-tested without a database.

Each refusal has its own problem `code` (SPEC §5) and tells the cashier what to do, but never
tells one merchant anything about another merchant's coupons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from ..coupons.state import CouponState, coupon_state
from ..errors import DomainError, NotFound
from ..money import format_money
from ..offers.pricing import discount_for
from ..periods import Period
from .pricing import commission_for


@dataclass(frozen=True, slots=True)
class Till:
    """Where the sale happens: a store and the merchant it belongs to."""

    store_id: int
    merchant_id: int


@dataclass(frozen=True, slots=True)
class Loaded:
    """One coupon in its context (`exchange.coupons.context`), with what its limits have counted:
    the customer's uses of the offer and the partnership's commission this month (None when the
    coupon has no such limit)."""

    coupon: tuple
    customer_uses: int | None = None
    month_commission: int | None = None


@dataclass(frozen=True, slots=True)
class Assessment:
    """A coupon that may be redeemed on this order, and what it costs whom. `coupon` is one row
    of the coupon with its offer, partnership and terms in force (`exchange.coupons.context`)."""

    coupon: tuple
    till: Till
    order_amount: int
    discount: int
    paid: int
    commission: int


def refuse(status: int, code: str, detail: str, **extra) -> DomainError:
    return DomainError(detail, code=code, status=status, **extra)


def refuse_unusable(state: CouponState, zone: str) -> None:
    """The till's refusal of a coupon that cannot be used now (nothing if it can); a time is
    said in the settlement timezone `zone`."""
    if state.usable:
        return
    status, code, detail = state.refusal
    extra = {}
    if state.usable_from is not None:
        local = state.usable_from.astimezone(ZoneInfo(zone))
        detail = f"This coupon can be used from {local:%Y-%m-%d %H:%M} ({zone})."
        extra["usable_from"] = local.isoformat()
    raise refuse(status, code, detail, **extra)


def assess(loaded: Loaded | None, till: Till, order_amount: int, *, at: datetime, zone: str) -> Assessment:
    """Every check for redeeming the `loaded` coupon on an order at `till`, at the instant `at`
    (the redemption's own: the same instant prices it, dates it, counts it against the month's
    cap and posts it). Raises the refusal a cashier sees, or returns what it costs whom."""
    if loaded is None:
        raise NotFound("No such coupon.", code="unknown_coupon")
    c = loaded.coupon
    if c.owner_id != till.merchant_id:
        raise refuse(403, "not_accepted_here", "This coupon is not accepted at this store.")
    # The same decision the customer's page shows. The owner is active: its own till's key
    # authenticated this request, and a suspended merchant's keys are refused (auth).
    refuse_unusable(coupon_state(c, at, owner_active=True), zone)
    if order_amount < c.min_spend:
        raise refuse(422, "below_min_spend",
                     f"This coupon needs an order of at least {format_money(c.min_spend, c.currency)}.",
                     min_spend=c.min_spend, currency=c.currency)
    if loaded.customer_uses is not None and loaded.customer_uses >= c.per_customer_limit:
        raise customer_limit_reached()
    discount = discount_for(discount_type=c.discount_type, amount=c.discount_amount,
                            rate_bps=c.discount_rate_bps, max_amount=c.max_discount,
                            order_amount=order_amount)
    if c.budget is not None and c.budget_spent + discount > c.budget:
        raise budget_exhausted()
    paid = order_amount - discount
    commission = commission_for(c.commission_type, c.rate_bps, c.fixed_amount, paid)
    if loaded.month_commission is not None and loaded.month_commission + commission > c.monthly_cap:
        raise cap_reached()
    return Assessment(c, till, order_amount, discount, paid, commission)


def settlement_month(at: datetime, zone: str) -> dict:
    """The settlement month `at` belongs to: its name and bounds (caps count what settles together)."""
    period = Period.containing(at, zone)
    return {"period": str(period), "starts_at": period.starts_at(zone), "ends_at": period.ends_at(zone)}


# Refusals that a read check (here) and the guarded write (in services) both give.
def customer_limit_reached() -> DomainError:
    return refuse(422, "customer_limit_reached", "This customer has used this offer as often as it allows.")


def budget_exhausted() -> DomainError:
    return refuse(422, "budget_exhausted", "This offer's discount budget is used up.")


def cap_reached() -> DomainError:
    return refuse(422, "commission_cap_reached", "This partnership has reached its commission cap for the month.")
