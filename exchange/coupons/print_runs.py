"""Drawing a batch's printable sheets: part after part, by any server's worker, into the database.

A batch's sheets are planned as parts of `PART_COUPONS` coupons (`sheets.request_sheets`). Each
worker claims one pending part under a lease, draws it (`sheet.py`, ~1 ms a coupon) with only that
part's coupons in memory, and stores the PDF in the part's row in one transaction: a worker
killed mid-part (even `kill -9`) loses only that part, which another worker draws once its lease
lapses; parts already stored are never drawn again (nor stored twice). Several workers draw different parts of one
batch at the same time, so a print run uses every server process's core.
"""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, or_, select, update

from .. import clock
from ..db.unit_of_work import unit_of_work
from ..events import views as events
from ..extensions import db
from ..merchants.models import Store
from ..offers.models import Offer
from ..offers.pricing import describe
from . import codes
from .batches import lease
from .models import Coupon, CouponBatch, SheetPart
from .sheet import SheetCoupon, SheetHeader, write_sheet

# 100 A4 pages of 12: a part's PDF is ~1.9 MB, and drawing one takes a second or two.
PART_COUPONS = 1200


def header_of(offer: Offer) -> SheetHeader:
    tz = ZoneInfo(current_app.config["SETTLEMENT_TZ"])
    until = offer.valid_until.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    stores = db.session.scalars(select(Store).where(Store.merchant_id == offer.owner_id).order_by(Store.id))
    args = (offer.discount_type, offer.discount_amount, offer.discount_rate_bps, offer.max_discount,
            offer.min_spend, offer.currency)
    return SheetHeader(
        title=offer.title, value_text=f"{describe(*args, 'zh')} / {describe(*args, 'en')}",
        owner_name=offer.owner.name, stores=[f"{s.name} · {s.address}" for s in stores],
        expires_text=f"有效期至 {until} ({tz}) / valid until {until}")


def sheet_coupons(batch_id: int, first_coupon_id: int = 0, count: int | None = None):
    """The batch's coupons in id order from `first_coupon_id`, `count` of them (all by default)."""
    query = (select(Coupon.code, Coupon.token).where(Coupon.batch_id == batch_id, Coupon.id >= first_coupon_id)
             .order_by(Coupon.id).limit(count).execution_options(yield_per=2000))
    public_url = current_app.config["PUBLIC_URL"]
    for row in db.session.execute(query):
        yield SheetCoupon(code=codes.display(row.code), public_url=public_url, token=row.token)


def draw_pending_sheets(owner: str) -> int:
    """Draw every part that is waiting for a worker (called by the batch worker); how many."""
    drawn = 0
    while (claimed := claim_part(owner)) is not None:
        pdf, pages = draw_part(*claimed)
        drawn += store_part(*claimed, pdf, pages)
    return drawn


def _free(now):
    return (SheetPart.status == "pending") & or_(SheetPart.lease_until.is_(None), SheetPart.lease_until < now)


def claim_part(owner: str) -> tuple[int, int] | None:
    """Take the lease of the first pending part nobody holds; None if there is none."""
    now = clock.now()
    # A plain read first: an idle worker must not take the write lock every second.
    found = db.session.execute(select(SheetPart.batch_id, SheetPart.number).where(_free(now))
                               .order_by(SheetPart.batch_id, SheetPart.number).limit(5)).all()
    db.session.rollback()
    if not found:
        return None
    with unit_of_work() as uow:
        for batch_id, number in found:
            # Checked again by the UPDATE itself: two workers can pick the same part, one takes it.
            taken = uow.session.execute(update(SheetPart).where(
                SheetPart.batch_id == batch_id, SheetPart.number == number, _free(now)).values(
                lease_owner=owner, lease_until=now + lease())).rowcount
            if taken:
                return batch_id, number
    return None


def draw_part(batch_id: int, number: int) -> tuple[bytes, int]:
    part = db.session.get(SheetPart, (batch_id, number))
    batch = db.session.get(CouponBatch, batch_id)
    out = io.BytesIO()
    pages = write_sheet(out, header_of(db.session.get(Offer, batch.offer_id)),
                        sheet_coupons(batch_id, part.first_coupon_id, part.coupons))
    db.session.rollback()
    return out.getvalue(), pages


def store_part(batch_id: int, number: int, pdf: bytes, pages: int) -> bool:
    """Keep the part unless another worker stored it first; the last part makes the sheets ready.

    A part's drawing depends only on its coupons, so whoever finishes first is right: the lease
    only keeps two workers from drawing it at once. (Refusing a worker whose lease lapsed would
    never finish a part that takes longer than the lease: each worker would take it from the
    other in turn.)"""
    with unit_of_work() as uow:
        session = uow.session
        # The batch row first: the workers of a batch's last two parts then finish one after the
        # other, and the second sees the first's part (each alone would see the other's pending).
        batch = session.get(CouponBatch, batch_id, with_for_update=True, populate_existing=True)
        stored = session.execute(update(SheetPart).where(
            SheetPart.batch_id == batch_id, SheetPart.number == number, SheetPart.status == "pending").values(
            status="ready", pdf=pdf, pages=pages, size=len(pdf), drawn_at=clock.now(), lease_owner=None,
            lease_until=None)).rowcount
        if not stored:  # another worker stored it first
            return False
        left = session.scalar(select(func.count()).select_from(SheetPart).where(
            SheetPart.batch_id == batch_id, SheetPart.status == "pending"))
        if left == 0 and batch.sheet_status == "pending":
            batch.sheet_status = "ready"
            events.sheet_ready(session, batch)
    return True
