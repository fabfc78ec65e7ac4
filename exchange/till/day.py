"""Today at this store: what a till's cashier needs at closing time, and nothing of other stores."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from .. import clock
from ..extensions import db
from ..http.auth import Principal
from ..redemptions.models import Redemption, Reversal

LISTED = 200


def store_day(principal: Principal) -> dict:
    """The till's store's redemptions and refunds of today (in the settlement timezone, where
    the shop is), the latest first, with totals over the whole day."""
    zone_name = current_app.config["SETTLEMENT_TZ"]
    zone = ZoneInfo(zone_name)
    today = clock.now().astimezone(zone).date()
    start = datetime.combine(today, time(0), zone)
    end = datetime.combine(today + timedelta(days=1), time(0), zone)
    # Only its own merchant's redemptions at its own store (a terminal key names both).
    here = (Redemption.store_id == principal.store_id, Redemption.owner_id == principal.merchant_id)
    sold = (*here, Redemption.redeemed_at >= start, Redemption.redeemed_at < end)
    refunded = (*here, Reversal.reversed_at >= start, Reversal.reversed_at < end)
    redemptions = list(db.session.scalars(
        select(Redemption).where(*sold).order_by(Redemption.id.desc()).limit(LISTED)))
    refunds = db.session.execute(
        select(Reversal, Redemption.coupon_code).join(Redemption, Redemption.id == Reversal.redemption_id)
        .where(*refunded).order_by(Reversal.id.desc()).limit(LISTED)).all()
    count, order_total, discount_total, paid_total = db.session.execute(select(
        func.count(), func.coalesce(func.sum(Redemption.order_amount), 0),
        func.coalesce(func.sum(Redemption.discount), 0), func.coalesce(func.sum(Redemption.paid_amount), 0),
    ).where(*sold)).one()
    refund_count, refund_total = db.session.execute(select(
        func.count(), func.coalesce(func.sum(Reversal.refund_amount), 0),
    ).join(Redemption, Redemption.id == Reversal.redemption_id).where(*refunded)).one()
    return {
        "date": today.isoformat(), "timezone": zone_name, "store_id": principal.store_id,
        "redemptions": redemptions,
        "refunds": [{"reversal": reversal, "coupon_code": code} for reversal, code in refunds],
        "totals": {"redemptions": count, "order_amount": int(order_total), "discount": int(discount_total),
                   "paid_amount": int(paid_total), "refunds": refund_count, "refunded_amount": int(refund_total),
                   "net_amount": int(paid_total) - int(refund_total)},
        "complete": count <= LISTED and refund_count <= LISTED,
    }
