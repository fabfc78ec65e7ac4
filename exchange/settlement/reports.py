"""Does a partnership pay? Per partner and direction, for one month (SPEC §1, the article's
measures): the funnel of the month's coupons (issued → customer page viewed → redeemed →
reversed), the conversion rate, the sales each side brought the other, the commission each way,
and how many distinct customers were exchanged — counted by pseudonym, never named.

The funnel follows the coupons issued in the month (one count per coupon), wherever they got to
since; sales, refunds on them, commission, clawbacks and customers count the redemptions made in
the month (a coupon with several uses can be redeemed several times).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import case, distinct, func, or_, select

from ..coupons.models import Coupon
from ..extensions import db
from ..http.auth import Principal
from ..offers.models import Offer
from ..partners.models import Partnership
from ..redemptions.models import Redemption
from .period_view import names, parse_period, started, zone

FUNNEL = ("issued", "viewed", "redeemed", "reversed")


def _empty_side() -> dict:
    return {**dict.fromkeys(FUNNEL, 0), "conversion_bps": 0, "sales": []}


def partnership_report(principal: Principal, period_text: str) -> dict:
    period = started(parse_period(period_text))
    me = principal.merchant_id
    start, end = period.starts_at(zone()), period.ends_at(zone())
    rows: dict[int, dict] = defaultdict(lambda: {"you_sent": _empty_side(), "they_sent": _empty_side()})

    statuses = dict(db.session.execute(
        select(case((Partnership.low_id == me, Partnership.high_id), else_=Partnership.low_id), Partnership.status)
        .where(or_(Partnership.low_id == me, Partnership.high_id == me)).order_by(Partnership.created_at)).all())
    for partner in statuses:
        rows[partner]  # every partnership appears, even a quiet one

    redeemed = select(Redemption.id).where(Redemption.coupon_id == Coupon.id).exists()
    reversed_ = select(Redemption.id).where(Redemption.coupon_id == Coupon.id, Redemption.refunded_amount > 0).exists()
    funnel = (select(Coupon.distributor_id, Offer.owner_id, func.count(Coupon.id), func.count(Coupon.first_viewed_at),
                     func.sum(case((redeemed, 1), else_=0)), func.sum(case((reversed_, 1), else_=0)))
              .join(Offer, Offer.id == Coupon.offer_id)
              .where(Coupon.issued_at >= start, Coupon.issued_at < end,
                     or_(Coupon.distributor_id == me, Offer.owner_id == me))
              .group_by(Coupon.distributor_id, Offer.owner_id))
    for distributor, owner, *counts in db.session.execute(funnel):
        if distributor == owner:
            continue
        side = rows[owner]["you_sent"] if distributor == me else rows[distributor]["they_sent"]
        side.update(zip(FUNNEL, (int(c or 0) for c in counts), strict=True))
        side["conversion_bps"] = side["redeemed"] * 10_000 // side["issued"] if side["issued"] else 0

    sales = (select(Redemption.distributor_id, Redemption.owner_id, Redemption.currency, func.count(Redemption.id),
                    func.sum(Redemption.paid_amount), func.sum(Redemption.refunded_amount),
                    func.sum(Redemption.commission_amount), func.sum(Redemption.commission_clawed_back),
                    func.count(distinct(Redemption.customer_pseudonym)))
             .where(Redemption.redeemed_at >= start, Redemption.redeemed_at < end,
                    or_(Redemption.distributor_id == me, Redemption.owner_id == me))
             .group_by(Redemption.distributor_id, Redemption.owner_id, Redemption.currency)
             .order_by(Redemption.currency))
    for distributor, owner, currency, count, paid, refunded, commission, clawed, customers in db.session.execute(sales):
        side = rows[owner]["you_sent"] if distributor == me else rows[distributor]["they_sent"]
        side["sales"].append({"currency": currency, "redemptions": count, "sales_amount": int(paid or 0),
                              "refunded_amount": int(refunded or 0), "commission": int(commission or 0),
                              "commission_clawed_back": int(clawed or 0), "customers": customers})

    who = names(list(rows) + [me])
    return {
        "period": str(period), "timezone": zone(), "merchant": {"id": me, "name": who.get(me)},
        "partners": [{"partner": {"id": p, "name": who.get(p)}, "partnership_status": statuses.get(p), **sides}
                     for p, sides in sorted(rows.items())],
    }
