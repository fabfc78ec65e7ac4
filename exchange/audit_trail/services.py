"""Audit events for the operator, oldest first, filtered by merchant and time; as a page or as
a file (CSV/XLSX through `spreadsheets.py`: every text cell formula-neutral, as in every file)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from ..audit import AuditEvent as E
from ..extensions import db
from ..files.spreadsheets import INSTANT, INTEGER, Column, Line, csv_chunks, write_xlsx

COLUMNS = [Column("id", INTEGER, "编号 id", 10), Column("at", INSTANT, "时间 at", 19),
           Column("actor", label="操作者 actor", width=16), Column("merchant_id", INTEGER, "商户 merchant_id", 12),
           Column("action", label="动作 action", width=28), Column("subject_type", label="对象 subject_type", width=18),
           Column("subject_id", label="对象编号 subject_id", width=14),
           Column("from_state", label="原状态 from", width=12),
           Column("to_state", label="新状态 to", width=12), Column("data", label="详情 data", width=60)]


def _query(merchant_id: int | None, from_: datetime | None, to: datetime | None):
    query = select(E).order_by(E.id)
    if merchant_id is not None:
        query = query.where(E.merchant_id == merchant_id)
    if from_ is not None:
        query = query.where(E.at >= from_)
    if to is not None:
        query = query.where(E.at < to)
    return query


def audit_page(merchant_id, from_, to, after: int, limit: int) -> dict:
    events = db.session.scalars(_query(merchant_id, from_, to).where(E.id > after).limit(limit)).all()
    return {"items": events, "next_after": events[-1].id if len(events) == limit else None}


def _lines(merchant_id, from_, to) -> Iterator[Line]:
    tz = ZoneInfo(current_app.config["SETTLEMENT_TZ"])
    for event in db.session.scalars(_query(merchant_id, from_, to).execution_options(yield_per=2000)):
        yield Line({"id": event.id, "at": event.at.astimezone(tz), "actor": event.actor,
                    "merchant_id": event.merchant_id, "action": event.action, "subject_type": event.subject_type,
                    "subject_id": event.subject_id, "from_state": event.from_state, "to_state": event.to_state,
                    "data": json.dumps(event.data, ensure_ascii=False, sort_keys=True) if event.data else ""})


def audit_csv(merchant_id, from_, to) -> Iterator[str]:
    """Streamed, 1,000 rows a chunk."""
    return csv_chunks(COLUMNS, _lines(merchant_id, from_, to), every=1000)


def audit_xlsx(merchant_id, from_, to):
    """A spooled file holding the workbook, rewound."""
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - returned, rewound
    write_xlsx(out, "审计 audit", COLUMNS, _lines(merchant_id, from_, to))
    out.seek(0)
    return out


def filename(merchant_id, extension: str) -> str:
    return f"audit-events{f'-merchant-{merchant_id}' if merchant_id else ''}.{extension}"
