"""A batch's coupons as a table, for the CSV and XLSX exports (`exchange/spreadsheets.py`)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..files.spreadsheets import INSTANT, INTEGER, Column, Line, csv_chunks, write_xlsx
from . import codes
from .models import Coupon, CouponBatch

COLUMNS = [Column("code", label="券码 code", width=17), Column("link", label="链接 link", width=60),
           Column("expires_at", INSTANT, "有效期至 expires_at", 19), Column("uses", INTEGER, "次数 uses", 8)]


def _lines(batch: CouponBatch) -> Iterator[Line]:
    base = current_app.config["PUBLIC_URL"]
    tz = ZoneInfo(current_app.config["SETTLEMENT_TZ"])
    query = (select(Coupon.code, Coupon.token, Coupon.expires_at, Coupon.uses_total)
             .where(Coupon.batch_id == batch.id).order_by(Coupon.id))
    for row in db.session.execute(query.execution_options(yield_per=2000)):
        yield Line({"code": codes.display(row.code), "link": f"{base}/c/{row.token}",
                    "expires_at": row.expires_at.astimezone(tz), "uses": row.uses_total})


def batch_csv(batch: CouponBatch) -> Iterator[str]:
    """The coupons issued so far, streamed, 1,000 rows a chunk."""
    return csv_chunks(COLUMNS, _lines(batch), every=1000)


def batch_xlsx(batch: CouponBatch):
    """A spooled file holding the workbook, rewound."""
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - returned, rewound
    write_xlsx(out, f"券 batch {batch.id}", COLUMNS, _lines(batch))
    out.seek(0)
    return out
