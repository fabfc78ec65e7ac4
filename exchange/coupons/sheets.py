"""A batch as a printable PDF sheet (the drawing itself is `sheet.py`, pure).

Up to `INLINE_LIMIT` coupons are drawn while the caller waits. A larger batch (100,000 coupons
is 8,334 pages and minutes of work) is drawn once by the batch worker into `SHEET_DIR`: the
first request answers 202 with Retry-After, later ones get the file.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import or_, select, update

from .. import clock
from ..db.unit_of_work import unit_of_work
from ..errors import Conflict
from ..events import views as events
from ..extensions import db
from ..merchants.models import Store
from ..offers.models import Offer
from ..offers.pricing import describe
from . import codes
from .models import Coupon, CouponBatch
from .sheet import SheetCoupon, SheetHeader, write_sheet

INLINE_LIMIT = 500
RENDER_LEASE = timedelta(hours=2)


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


def _coupons(batch_id: int, public_url: str):
    query = (select(Coupon.code, Coupon.token).where(Coupon.batch_id == batch_id)
             .order_by(Coupon.id).execution_options(yield_per=2000))
    for row in db.session.execute(query):
        yield SheetCoupon(code=codes.display(row.code), public_url=public_url, token=row.token)


def _draw(batch: CouponBatch, out) -> None:
    write_sheet(out, _header(db.session.get(Offer, batch.offer_id)),
                _coupons(batch.id, current_app.config["PUBLIC_URL"]))


@dataclass(frozen=True)
class Sheet:
    """A drawn sheet: an open file (`data`, rewound) or a file on disk (`path`)."""

    filename: str
    data: object | None = None
    path: str | None = None


def sheet_of(batch: CouponBatch) -> Sheet | None:
    """The batch's sheet, drawn now if it is small; None while a large one is being drawn (the
    batch worker draws it; it was asked for here)."""
    if batch.status != "done":
        raise Conflict("The batch is not finished yet; its sheet can be printed once it is.",
                       code="batch_not_finished", batch_status=batch.status)
    filename = f"coupon-batch-{batch.id}.pdf"
    if batch.issued <= INLINE_LIMIT:
        out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - returned, rewound
        _draw(batch, out)
        out.seek(0)
        return Sheet(filename, data=out)
    if batch.sheet_status == "ready" and batch.sheet_file and Path(batch.sheet_file).exists():
        return Sheet(filename, path=batch.sheet_file)
    with unit_of_work() as uow:
        session = uow.session
        session.execute(update(CouponBatch).where(CouponBatch.id == batch.id,
                                                  CouponBatch.sheet_status.in_(("none", "ready")))
                        .values(sheet_status="pending"))
    return None


def draw_pending_sheets(owner: str) -> int:
    """Draw every sheet that was asked for (called by the batch worker)."""
    drawn = 0
    while (batch_id := _claim_sheet(owner)) is not None:
        batch = db.session.get(CouponBatch, batch_id)
        directory = Path(current_app.config["SHEET_DIR"])
        directory.mkdir(parents=True, exist_ok=True)
        final = directory / f"coupon-batch-{batch_id}.pdf"
        with tempfile.NamedTemporaryFile(dir=directory, suffix=".part", delete=False) as out:
            _draw(batch, out)
        os.replace(out.name, final)
        db.session.rollback()
        with unit_of_work() as uow:
            session = uow.session
            session.execute(update(CouponBatch).where(CouponBatch.id == batch_id)
                            .values(sheet_status="ready", sheet_file=str(final), lease_owner=None,
                                    lease_until=None))
            events.sheet_ready(session, session.get(CouponBatch, batch_id))
        drawn += 1
    return drawn


def _claim_sheet(owner: str) -> int | None:
    now = clock.now()
    wanted = or_(CouponBatch.sheet_status == "pending",
                 (CouponBatch.sheet_status == "rendering") & (CouponBatch.lease_until < now))
    found = db.session.scalar(select(CouponBatch.id).where(wanted).limit(1))
    db.session.rollback()
    if found is None:
        return None
    with unit_of_work() as uow:
        session = uow.session
        taken = session.execute(update(CouponBatch).where(CouponBatch.id == found, wanted).values(
            sheet_status="rendering", lease_owner=owner, lease_until=now + RENDER_LEASE)).rowcount
    return found if taken else None
