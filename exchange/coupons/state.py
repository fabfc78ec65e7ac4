"""Whether a coupon can be used now and, if not, why: one decision for the customer's page,
for `verify` and for redeeming (SPEC §4.10: the page tells what the till will do). Pure.

It decides from one row of the coupon with its offer, partnership and terms in force (the row
`redemptions.checks` reads for a redemption) and the owner's standing. What depends on the order
itself — the minimum spend, and the aggregate limits (per-customer use, the budget left against
this order's discount, the monthly commission cap) — is checked by the till afterwards.

The order, from final to passing: a withdrawn, used-up or expired coupon never comes back, so
that is said first; then what may pass (the owner suspended, the partnership not active, the
offer paused, not started yet, its budget unable to fund one more full discount).

A suspended *distributor* does not stop its coupons: the customer is not punished for the
merchant that handed the coupon out (its commission is held instead; docs/settlement.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..offers.pricing import full_discount

# status → (HTTP status of the till's refusal, problem code, what the cashier is told)
REFUSALS = {
    "revoked": (410, "coupon_revoked", "This coupon has been withdrawn and cannot be used."),
    "used": (409, "coupon_exhausted", "This coupon has already been used."),
    "expired": (410, "coupon_expired", "This coupon has expired."),
    "owner_suspended": (403, "owner_suspended",
                        "The merchant of this store is suspended by the exchange; the coupon cannot be used now."),
    "partnership_inactive": (403, "partnership_inactive",
                             "The partnership behind this coupon is not active; it cannot be used now."),
    "paused": (409, "offer_paused", "This offer is paused by the store; it cannot be used now."),
    "not_started": (422, "offer_not_started", "This coupon cannot be used yet."),
    "budget_exhausted": (422, "budget_exhausted", "This offer's discount budget is used up."),
}
STATUSES = ("valid", *REFUSALS)


@dataclass(frozen=True, slots=True)
class CouponState:
    status: str  # "valid" or a key of REFUSALS
    usable_from: datetime | None = None  # when a coupon that has not started yet can be used

    @property
    def usable(self) -> bool:
        return self.status == "valid"

    @property
    def refusal(self) -> tuple[int, str, str] | None:
        """(HTTP status, problem code, detail) the till answers with, or None if usable."""
        return REFUSALS.get(self.status)


def coupon_state(c, now: datetime, *, owner_active: bool) -> CouponState:
    """`c`: a row with the coupon's `coupon_status`, `uses_left`, `expires_at`, its offer's
    `offer_status`, `valid_from`, discount, `min_spend`, `budget` and `budget_spent`, and the
    partnership terms in force (`terms_id`, `starts_at`, `ends_at`; NULL when there are none)."""
    if c.coupon_status == "revoked" or c.offer_status == "ended":
        return CouponState("revoked")
    if c.uses_left <= 0:
        return CouponState("used")
    if now >= c.expires_at:
        return CouponState("expired")
    if not owner_active:
        return CouponState("owner_suspended")
    if c.terms_id is None or (c.starts_at and now < c.starts_at) or (c.ends_at and now >= c.ends_at):
        return CouponState("partnership_inactive")
    if c.offer_status == "paused":
        return CouponState("paused")
    if now < c.valid_from:
        return CouponState("not_started", usable_from=c.valid_from)
    if c.budget is not None and c.budget - c.budget_spent < full_discount(c):
        # What is left cannot fund this coupon's full discount: refused on every order, so that
        # no order's answer differs from the page's.
        return CouponState("budget_exhausted")
    return CouponState("valid")
