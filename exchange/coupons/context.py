"""A coupon in its context: one statement for the coupon, its offer, and the active partnership
of the offer's owner and the coupon's distributor with the terms in force at `:now`. What the
till decides on (`exchange.redemptions.checks.assess`) and what the customer's page shows
(`exchange.coupons.state.coupon_state`) are read from the same row."""

from __future__ import annotations

import functools

from sqlalchemy import and_, bindparam, case, or_, select

from ..db.statements import Compiled
from ..offers.models import Offer
from ..partners.models import LIVE_PAIR, Partnership, PartnershipTerms
from .models import Coupon


@functools.cache
def coupon_in_context(by: str, lock: bool = False) -> Compiled:
    """One statement for everything a redemption checks: the coupon (by "code", "token" or
    "id"), its offer, and the active partnership of the offer's owner and the coupon's
    distributor with the terms in force at `:now` (NULL when there is none). Built once."""
    C, Of, P, T = Coupon, Offer, Partnership, PartnershipTerms
    owner_first = Of.owner_id < C.distributor_id
    now = bindparam("now")
    query = (
        select(C.id, C.code, C.distributor_id, C.customer_pseudonym, C.uses_left, C.expires_at,
               C.status.label("coupon_status"), Of.id.label("offer_id"), Of.owner_id,
               Of.status.label("offer_status"), Of.title, Of.valid_from, Of.min_spend, Of.currency, Of.discount_type,
               Of.discount_amount, Of.discount_rate_bps, Of.max_discount, Of.budget, Of.budget_spent,
               Of.per_customer_limit, Of.distributor_share_bps, P.id.label("partnership_id"),
               T.id.label("terms_id"), T.commission_type, T.rate_bps, T.amount.label("fixed_amount"),
               T.monthly_cap, T.starts_at, T.ends_at)
        .join(Of, Of.id == C.offer_id)
        .outerjoin(P, and_(P.low_id == case((owner_first, Of.owner_id), else_=C.distributor_id),
                           P.high_id == case((owner_first, C.distributor_id), else_=Of.owner_id),
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
    return Compiled(query.with_for_update(of=C) if lock else query)


def coupon_row(session, coupon_id: int, now):
    """The row for one coupon by id (the customer's page)."""
    return coupon_in_context("id").first(session, {"coupon_id": coupon_id, "now": now})
