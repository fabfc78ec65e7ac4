"""A batch's printable sheets: asked for, listed, served from the database (drawing: print_runs.py).

Up to `INLINE_LIMIT` coupons are drawn while the caller waits (`sheet.pdf`). A larger batch
(100,000 coupons is 8,334 pages) is planned as parts of `PART_COUPONS` coupons the first time its
sheets are asked for, and drawn part by part by the batch workers of every server; until a part
is drawn the request answers 202 with Retry-After. The parts are served one by one, or all as one
ZIP written as it is sent (one part in memory at a time).
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update

from ..db.unit_of_work import unit_of_work
from ..errors import Conflict, NotFound
from ..extensions import db
from ..offers.models import Offer
from . import print_runs
from .models import Coupon, CouponBatch, SheetPart
from .sheet import write_sheet

INLINE_LIMIT = 500


@dataclass(frozen=True)
class Sheets:
    """A batch's sheets as listed: `status` preparing or ready, its parts (without their PDFs)."""

    batch_id: int
    status: str
    coupons_per_part: int
    parts: list[SheetPart]

    @property
    def parts_ready(self) -> int:
        return sum(part.status == "ready" for part in self.parts)


def part_filename(batch_id: int, number: int) -> str:
    return f"coupon-batch-{batch_id}-part-{number:03d}.pdf"


def _finished(batch: CouponBatch) -> None:
    if batch.status != "done":
        raise Conflict("The batch is not finished yet; its sheet can be printed once it is.",
                       code="batch_not_finished", batch_status=batch.status)


def request_sheets(batch: CouponBatch) -> None:
    """Plan the batch's parts the first time its sheets are asked for (once, however many ask)."""
    _finished(batch)
    if batch.sheet_status != "none":
        return
    size = print_runs.PART_COUPONS
    with unit_of_work() as uow:
        session = uow.session
        planned = session.execute(update(CouponBatch).where(CouponBatch.id == batch.id,
                                                            CouponBatch.sheet_status == "none")
                                  .values(sheet_status="pending")).rowcount
        if not planned:
            return
        ranked = (select(Coupon.id, func.row_number().over(order_by=Coupon.id).label("n"))
                  .where(Coupon.batch_id == batch.id).subquery())
        firsts = session.scalars(select(ranked.c.id).where((ranked.c.n - 1) % size == 0)
                                 .order_by(ranked.c.id)).all()
        session.execute(insert(SheetPart), [
            {"batch_id": batch.id, "number": n, "first_coupon_id": first, "status": "pending",
             "coupons": min(size, batch.issued - (n - 1) * size)} for n, first in enumerate(firsts, 1)])
    db.session.refresh(batch)


def sheets_of(batch: CouponBatch) -> Sheets:
    """The batch's parts, asked for now if nobody has yet."""
    request_sheets(batch)
    parts = db.session.scalars(select(SheetPart).where(SheetPart.batch_id == batch.id)
                               .order_by(SheetPart.number)).all()
    status = "ready" if parts and all(p.status == "ready" for p in parts) else "preparing"
    return Sheets(batch.id, status, print_runs.PART_COUPONS, list(parts))


def part_pdf(batch: CouponBatch, number: int) -> bytes | None:
    """One part's PDF; None while it is being drawn."""
    request_sheets(batch)
    row = db.session.execute(select(SheetPart.status, SheetPart.pdf).where(
        SheetPart.batch_id == batch.id, SheetPart.number == number)).one_or_none()
    if row is None:
        raise NotFound(f"Batch {batch.id}'s sheets have no part {number}.")
    return row.pdf if row.status == "ready" else None


def zip_of(batch: CouponBatch) -> Iterator[bytes] | None:
    """Every part in one ZIP, written as it is sent; None until every part is drawn."""
    if sheets_of(batch).status != "ready":
        return None
    return _zip_chunks(batch.id)


class _Sink:
    """What zipfile writes, handed on chunk by chunk (no seek: zipfile then writes data descriptors)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        out, self._chunks = b"".join(self._chunks), []
        return out


def _zip_chunks(batch_id: int) -> Iterator[bytes]:
    numbers = db.session.scalars(select(SheetPart.number).where(SheetPart.batch_id == batch_id)
                                 .order_by(SheetPart.number)).all()
    sink = _Sink()
    # Stored, not deflated: the PDFs' streams are compressed already.
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        for number in numbers:
            pdf = db.session.scalar(select(SheetPart.pdf).where(SheetPart.batch_id == batch_id,
                                                                SheetPart.number == number))
            archive.writestr(part_filename(batch_id, number), pdf)
            del pdf
            yield sink.take()
    yield sink.take()


@dataclass(frozen=True)
class Sheet:
    """`sheet.pdf`: an open file (`data`, rewound), or `in_parts` for a batch printed in parts."""

    filename: str
    data: object | None = None
    in_parts: bool = False


def sheet_of(batch: CouponBatch) -> Sheet | None:
    """The batch as one PDF: drawn now if it is small, its one part once drawn, or (a batch of
    several parts) the word that it is printed in parts; None while its parts are being drawn."""
    _finished(batch)
    filename = f"coupon-batch-{batch.id}.pdf"
    if batch.issued <= INLINE_LIMIT:
        out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - returned, rewound
        write_sheet(out, print_runs.header_of(db.session.get(Offer, batch.offer_id)),
                    print_runs.sheet_coupons(batch.id))
        out.seek(0)
        return Sheet(filename, data=out)
    sheets = sheets_of(batch)
    if sheets.status != "ready":
        return None
    if len(sheets.parts) > 1:
        return Sheet(filename, in_parts=True)
    return Sheet(filename, data=io.BytesIO(part_pdf(batch, 1)))
