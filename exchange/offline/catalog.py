"""What a paired till keeps for offline use (issue 17): the offers redeemable at its store, the
partnerships in force, the coupons still usable (as id ranges: a coupon token names only its
coupon id) and the store's risk limits, stamped with the exchange's own time."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import and_, or_, select

from .. import clock
from ..coupons.models import Coupon
from ..extensions import db
from ..http.auth import Principal
from ..offers.models import Offer
from ..offers.pricing import full_discount
from ..partners.models import Partnership, PartnershipTerms
from .limits import limits_of
from .rules import id_ranges


def _discount(o: Offer) -> dict:
    return o.discount


def catalog(principal: Principal) -> dict:
    session, now = db.session, clock.now()
    merchant_id = principal.merchant_id
    offers = list(session.scalars(select(Offer).where(
        Offer.owner_id == merchant_id, Offer.status != "ended", Offer.valid_until > now).order_by(Offer.id)))
    terms = session.execute(
        select(Partnership.low_id, Partnership.high_id, PartnershipTerms.starts_at, PartnershipTerms.ends_at,
               PartnershipTerms.effective_until)
        .join(PartnershipTerms, PartnershipTerms.partnership_id == Partnership.id)
        .where(Partnership.status == "active",
               or_(Partnership.low_id == merchant_id, Partnership.high_id == merchant_id),
               PartnershipTerms.effective_from <= now,
               or_(PartnershipTerms.effective_until.is_(None), PartnershipTerms.effective_until > now))).all()
    partnerships = []
    for low, high, starts_at, ends_at, until in terms:
        ends = [t for t in (ends_at, until) if t is not None]
        partnerships.append({"merchant_id": high if low == merchant_id else low, "starts_at": starts_at,
                             "ends_at": min(ends) if ends else None})
    runs: dict[tuple, list[int]] = defaultdict(list)
    if offers:
        rows = session.execute(select(Coupon.id, Coupon.offer_id, Coupon.distributor_id, Coupon.uses_left).where(
            Coupon.offer_id.in_([o.id for o in offers]),
            and_(Coupon.status != "revoked", Coupon.uses_left > 0, Coupon.expires_at > now)))
        for coupon_id, offer_id, distributor_id, uses_left in rows:
            runs[(offer_id, distributor_id, uses_left)].append(coupon_id)
    return {
        "generated_at": now, "store_id": principal.store_id, "merchant_id": merchant_id,
        "limits": limits_of(session, principal.store_id),
        "offers": [{"id": o.id, "title": o.title, "status": o.status, "discount": _discount(o),
                    "min_spend": o.min_spend, "currency": o.currency, "valid_from": o.valid_from,
                    "valid_until": o.valid_until, "full_discount": full_discount(o),
                    "budget_left": None if o.budget is None else o.budget - o.budget_spent} for o in offers],
        "partnerships": partnerships,
        "coupons": [{"offer_id": k[0], "distributor_id": k[1], "uses_left": k[2], "ids": id_ranges(ids)}
                    for k, ids in sorted(runs.items())],
    }
