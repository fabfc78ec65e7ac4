"""A batch as a printable PDF sheet (the drawing itself is `sheet.py`, pure)."""

from __future__ import annotations

import tempfile
from zoneinfo import ZoneInfo

from flask import Response, current_app
from sqlalchemy import select

from ..extensions import db
from ..merchants.models import Store
from ..offers.models import Offer
from ..offers.pricing import describe
from . import codes
from .models import Coupon, CouponBatch
from .sheet import SheetCoupon, SheetHeader, write_sheet


def _header(offer: Offer) -> SheetHeader:
    tz = ZoneInfo(current_app.config["SETTLEMENT_TZ"])
    until = offer.valid_until.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    stores = db.session.scalars(select(Store).where(Store.merchant_id == offer.owner_id).order_by(Store.id))
    args = (offer.discount_type, offer.discount_amount, offer.discount_rate_bps, offer.max_discount,
            offer.min_spend, offer.currency)
    return SheetHeader(
        title=offer.title, value_text=f"{describe(*args, 'zh')} / {describe(*args, 'en')}",
        owner_name=offer.owner.name, stores=[f"{s.name} · {s.address}" for s in stores],
        expires_text=f"有效期至 {until} ({tz}) / valid until {until}")


def _coupons(batch: CouponBatch, public_url: str):
    query = (select(Coupon.code, Coupon.token).where(Coupon.batch_id == batch.id)
             .order_by(Coupon.id).execution_options(yield_per=2000))
    for row in db.session.execute(query):
        yield SheetCoupon(code=codes.display(row.code), public_url=public_url, token=row.token)


def sheet_response(batch: CouponBatch) -> Response:
    """Render into a temporary file (spilled to disk past 8 MiB) and send it."""
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    write_sheet(out, _header(db.session.get(Offer, batch.offer_id)),
                _coupons(batch, current_app.config["PUBLIC_URL"]))
    out.seek(0)
    response = Response(_chunks(out), mimetype="application/pdf", direct_passthrough=True)
    response.headers["Content-Disposition"] = f'attachment; filename="coupon-batch-{batch.id}.pdf"'
    return response


def _chunks(out):
    with out:
        while chunk := out.read(256 * 1024):
            yield chunk
