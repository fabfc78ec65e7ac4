"""CSV and XLSX files that open right in Excel and WPS on a Chinese Windows, pure (SPEC §4.11).

One description of a table's columns (`Column`) drives both formats, so a statement's CSV and
its XLSX always hold the same cells:

* CSV: UTF-8 with a byte-order mark (without it Excel on a Chinese Windows reads the file as
  GBK and shows mojibake), CRLF line ends (RFC 4180), amounts as integer fen, instants as ISO
  8601 with their offset. Every text cell is neutralised against formula injection as OWASP's
  CSV-injection guidance says (defusedcsv: a cell starting with = + - @ | % gets a leading
  apostrophe), so a merchant named `=HYPERLINK(…)` is text in its partner's spreadsheet.
  Numbers are written as numbers and left alone.
* XLSX (XlsxWriter in constant-memory mode: a row is flushed as soon as the next begins, so a
  month of any size fits): amounts as numbers in yuan with the currency's symbol as their
  format, instants as dates in local time, text always as text (never parsed as a formula, a
  number or a link), totals in bold under a rule.

Rows are `Line`s whose values are keyed by column name; a missing value is an empty cell.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO

import defusedcsv.csv as defused_csv
import xlsxwriter

from ..money import CURRENCIES, major_units

TEXT, INTEGER, MONEY, INSTANT = "text", "integer", "money", "instant"
BOM = "\ufeff"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Characters that also start a formula in some spreadsheet or locale and that defusedcsv's list
# leaves out: tab and CR (OWASP names them), LF, and the full-width forms a Chinese IME types.
_ALSO_ACTIVE = ("\t", "\r", "\n", "＝", "＋", "－", "＠")


@dataclass(frozen=True)
class Column:
    name: str  # the CSV header, the API's field name
    kind: str = TEXT
    label: str = ""  # the XLSX header, for people: "金额 amount"
    width: float = 12  # XLSX column width, in characters


@dataclass(frozen=True)
class Line:
    values: dict
    total: bool = False  # a totals row: bold, under a rule, in the XLSX
    currency: str = field(default="CNY")  # the currency of this row's MONEY cells


def neutral_text(value) -> str:
    """A text cell that no spreadsheet evaluates (defusedcsv does the OWASP list when writing)."""
    text = str(value)
    return "'" + text if text.startswith(_ALSO_ACTIVE) else text


def csv_chunks(columns: list[Column], lines: Iterable[Line], *, every: int = 500) -> Iterator[str]:
    """The CSV text, header first, in chunks of `every` rows (to stream)."""
    buffer = io.StringIO()
    out = defused_csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    out.writerow([c.name for c in columns])
    yield BOM + flush()
    for n, line in enumerate(lines, 1):
        out.writerow([_csv_cell(c, line.values.get(c.name)) for c in columns])
        if n % every == 0:
            yield flush()
    yield flush()


def _csv_cell(column: Column, value):
    if value is None or value == "":
        return ""
    if column.kind == INSTANT:
        return value.isoformat()
    if column.kind in (INTEGER, MONEY):
        return int(value)
    return neutral_text(value)


def write_xlsx(out: BinaryIO, sheet: str, columns: list[Column], lines: Iterable[Line]) -> None:
    """Write one worksheet of `lines` under a header row to `out`."""
    workbook = xlsxwriter.Workbook(out, {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
        "strings_to_urls": False, "in_memory": False, "remove_timezone": False})
    formats = _Formats(workbook)
    worksheet = workbook.add_worksheet(sheet)
    for i, column in enumerate(columns):
        worksheet.set_column(i, i, column.width)
    worksheet.freeze_panes(1, 0)
    for i, column in enumerate(columns):
        worksheet.write_string(0, i, column.label or column.name, formats.get("header"))
    for row, line in enumerate(lines, 1):
        for i, column in enumerate(columns):
            _xlsx_cell(worksheet, row, i, column, line, formats)
    workbook.close()


def _xlsx_cell(worksheet, row: int, col: int, column: Column, line: Line, formats: _Formats) -> None:
    value = line.values.get(column.name)
    if value is None or value == "":
        if line.total:
            worksheet.write_blank(row, col, None, formats.get("text", line.total))
        return
    if column.kind == MONEY:
        worksheet.write_number(row, col, major_units(int(value), line.currency),
                               formats.money(line.currency, line.total))
    elif column.kind == INTEGER:
        worksheet.write_number(row, col, int(value), formats.get("integer", line.total))
    elif column.kind == INSTANT:
        # Excel has no time zones: the local time the statement is in, as a real date.
        local: datetime = value
        worksheet.write_datetime(row, col, local.replace(tzinfo=None), formats.get("instant", line.total))
    else:
        worksheet.write_string(row, col, str(value), formats.get("text", line.total))


class _Formats:
    """Cell formats, made once per workbook (XlsxWriter needs them before the first row)."""

    NUMBER_FORMATS = {"text": "@", "integer": "0", "instant": "yyyy-mm-dd hh:mm:ss", "header": "@"}

    def __init__(self, workbook):
        self._workbook = workbook
        self._made: dict = {}
        for name in self.NUMBER_FORMATS:
            for total in (False, True):
                self.get(name, total)
        for currency in CURRENCIES:
            for total in (False, True):
                self.money(currency, total)

    def get(self, name: str, total: bool = False):
        key = (name, total)
        if key not in self._made:
            spec = {"num_format": self.NUMBER_FORMATS[name]}
            if name == "header":
                spec |= {"bold": True, "bg_color": "#E5E7EB", "bottom": 1}
            self._made[key] = self._add(spec, total)
        return self._made[key]

    def money(self, currency: str, total: bool = False):
        key = ("money", currency, total)
        if key not in self._made:
            symbol = CURRENCIES[currency].symbol.replace('"', "")
            # Symbol in quotes (literal text), two decimals, negative amounts in red.
            pattern = f'"{symbol}"#,##0.00'
            self._made[key] = self._add({"num_format": f"{pattern};[Red]-{pattern}"}, total)
        return self._made[key]

    def _add(self, spec: dict, total: bool):
        if total:
            spec = {**spec, "bold": True, "top": 1}
        return self._workbook.add_format(spec)
