"""Printable A4 sheets of coupons (PDF), pure (no Flask, no database).

reportlab's canvas keeps the whole document in memory until it is saved, so a print run is
drawn as parts of `print_runs.PART_COUPONS` coupons, one PDF each, and memory stays that of one
part. What is the same on every coupon (the offer text, the cut lines) is drawn once as a form
and referenced. Each QR is vector: its dark modules as one path of rectangles (runs of dark
modules along each row), filled once — one fill, so no reader shows seams between rows — sharp
at any zoom and printer resolution; its modules come from `qr.print_modules` (one version, one
mask).
"""

from __future__ import annotations

import functools
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from exchange.coupons.qr import BORDER, print_modules
from exchange.files import fonts

# Embedded (exchange/fonts.py): the sheet prints the same on a printer without Chinese fonts.
TEXT_FONT = fonts.TEXT_FONT
# The manual code is typed in by a cashier: monospaced, drawn heavy (the font has no bold face:
# each glyph is filled and outlined with a thin stroke). Its alphabet has no O, I or L to confuse.
CODE_FONT = fonts.CODE_FONT
CODE_STROKE = 0.045  # outline width, as a fraction of the code's type size
MARGIN = 10 * mm  # office printers cannot print closer than ~5 mm to the paper's edge
PADDING = 2.5 * mm  # a cut a millimetre off the dashed line must not reach the QR's quiet zone
QR_SIZE = 34 * mm  # a version-10 symbol plus its quiet zone: ~0.52 mm a module, phone-scannable
LEADING = 1.18
CUT_LINE = Color(0.6, 0.6, 0.6)
_DARK_RUN = re.compile(b"\x00+")  # print_modules: 0 is a dark module


@dataclass(frozen=True)
class SheetHeader:
    title: str  # the offer's title
    value_text: str  # "立减 ¥30.00 · 满 ¥200.00 可用 / ¥30.00 off orders of ¥200.00+"
    owner_name: str  # the merchant where the coupon is redeemed
    stores: list[str]  # "store name · address", one a store where it is accepted
    expires_text: str


@dataclass(frozen=True)
class SheetCoupon:
    code: str  # the manual code, printed under the QR
    public_url: str
    token: str  # signed; the QR encodes public_url + "/c/" + token


def write_sheet(out: BinaryIO, header: SheetHeader, coupons: Iterable[SheetCoupon], *,
                columns: int = 3, rows: int = 4) -> int:
    """Write the PDF to `out`; return the number of pages. `coupons` may be a generator of
    100,000 items: consume it lazily."""
    if columns < 1 or rows < 1:
        raise ValueError("a sheet needs at least one column and one row")
    fonts.register()
    page_w, page_h = A4
    cell_w = (page_w - 2 * MARGIN) / columns
    cell_h = (page_h - 2 * MARGIN) / rows
    qr_size = min(QR_SIZE, cell_w - 2 * PADDING, cell_h / 2)
    code_size = min(14.0, qr_size / 7)
    text_top = cell_h - PADDING - qr_size - code_size * 1.2

    # The initial font too: reportlab would otherwise name (unembedded) Helvetica on every page.
    canvas = Canvas(out, pagesize=A4, pageCompression=1, initialFontName=TEXT_FONT)
    canvas.setTitle(header.title)
    _define_offer_form(canvas, header, cell_w, text_top)
    _define_cut_form(canvas, columns, rows, cell_w, cell_h)

    per_page = columns * rows
    count = 0
    for count, coupon in enumerate(coupons, start=1):
        slot = (count - 1) % per_page
        if slot == 0:
            if count > 1:
                canvas.showPage()
            canvas.doForm("cut")
        x = MARGIN + (slot % columns) * cell_w
        y = page_h - MARGIN - (slot // columns + 1) * cell_h
        _draw_coupon(canvas, coupon, x, y, cell_w, cell_h, qr_size, code_size)
    if count == 0:
        raise ValueError("no coupons to print")  # an empty PDF is not a sheet
    canvas.save()
    return (count + per_page - 1) // per_page


def _draw_coupon(canvas: Canvas, coupon: SheetCoupon, x: float, y: float, cell_w: float,
                 cell_h: float, qr_size: float, code_size: float) -> None:
    qr_y = y + cell_h - PADDING - qr_size
    _draw_qr(canvas, coupon, x + (cell_w - qr_size) / 2, qr_y, qr_size)
    size = min(code_size, code_size * (cell_w - 2 * PADDING)
               / max(1.0, pdfmetrics.stringWidth(coupon.code, CODE_FONT, code_size)))
    text = canvas.beginText(x + (cell_w - pdfmetrics.stringWidth(coupon.code, CODE_FONT, size)) / 2,
                            qr_y - code_size * 0.85)
    text.setFont(CODE_FONT, size)
    text.setTextRenderMode(2)  # fill, then stroke: a bold face the font does not have
    text.textOut(coupon.code)
    canvas.saveState()  # the render mode and line width must not reach the offer text
    canvas.setLineWidth(size * CODE_STROKE)
    canvas.drawText(text)
    canvas.restoreState()
    canvas.saveState()
    canvas.translate(x, y)
    canvas.doForm("offer")
    canvas.restoreState()


def _draw_qr(canvas: Canvas, coupon: SheetCoupon, x: float, y: float, size: float) -> None:
    """The symbol in a square of `size` at (x, y), its quiet zone included (white paper)."""
    side, modules = print_modules(coupon.public_url, coupon.token)
    module = size / (side + 2 * BORDER)
    # In module units, rows downwards from the symbol's top left corner: small integers, few bytes.
    top = y + size - BORDER * module
    canvas.addLiteral(f"q 0 g {module:.4f} 0 0 {-module:.4f} {x + BORDER * module:.3f} {top:.3f} cm\n"
                      f"{_path(side, modules)}f Q")


# Formatting each run of each symbol is what drawing 100,000 of them would cost most (~800 runs a
# symbol, ~2 ms in Python). A row is read in pieces of 8 modules instead (split in C by a struct),
# and each piece's rectangles are formatted once per place and pattern (at most 57 × 8 × 256 for
# version 10), then only looked up. A run that crosses two pieces is two rectangles of one fill.
_PIECE = 8


def _path(side: int, modules: bytes) -> str:
    pieces, places, cached = _pieces(side)
    keys = pieces.unpack(modules)
    try:
        return "".join(map(dict.get, cached, keys))
    except TypeError:  # a piece not seen at its place yet (None): format it
        return "".join(found if found is not None else _format_piece(place, key, into)
                       for found, place, key, into in zip(map(dict.get, cached, keys), places, keys, cached,
                                                          strict=True))


@functools.cache
def _pieces(side: int) -> tuple[struct.Struct, list[tuple[int, int]], list[dict[bytes, str]]]:
    widths = [min(_PIECE, side - column) for column in range(0, side, _PIECE)]
    places = [(row, column) for row in range(side) for column in range(0, side, _PIECE)]
    return struct.Struct("".join(f"{w}s" for w in widths) * side), places, [{} for _ in places]


def _format_piece(place: tuple[int, int], piece: bytes, into: dict[bytes, str]) -> str:
    row, column = place
    into[piece] = path = "".join(f"{column + run.start()} {row} {run.end() - run.start()} 1 re\n"
                                 for run in _DARK_RUN.finditer(piece))
    return path


def _define_offer_form(canvas: Canvas, header: SheetHeader, cell_w: float,
                       text_top: float) -> None:
    width = cell_w - 2 * PADDING
    # The largest type that fits under the QR: offer texts vary from "满100减10" to paragraphs.
    for scale in (1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.5):
        lines = _offer_lines(header, width, scale)
        if sum(size * LEADING for _, size in lines) <= text_top - PADDING:
            break
    canvas.beginForm("offer")
    baseline = text_top
    for text, size in lines:
        baseline -= size * LEADING
        canvas.setFont(TEXT_FONT, size)
        canvas.drawCentredString(cell_w / 2, baseline + size * 0.2, text)
    canvas.endForm()


def _offer_lines(header: SheetHeader, width: float, scale: float) -> list[tuple[str, float]]:
    def block(text: str, size: float, max_lines: int) -> list[tuple[str, float]]:
        return [(line, size * scale) for line in _wrap(text, size * scale, width, max_lines)]

    lines = block(header.title, 13, 2) + block(header.value_text, 9, 3)
    lines += block(header.owner_name, 8.5, 1)
    for store in header.stores[:2]:
        lines += block(store, 7.5, 1)
    if len(header.stores) > 2:
        # "等 N 家门店" counts all the stores ("A, B and others: N stores"); "+N more" the rest.
        extra = len(header.stores) - 2
        lines += block(f"等 {len(header.stores)} 家门店 / +{extra} more", 7.5, 1)
    return lines + block(header.expires_text, 7.5, 3)


def _wrap(text: str, size: float, width: float, max_lines: int) -> list[str]:
    text = " ".join(text.split())
    # Offer texts are "中文 / English": when they need two lines, each language gets its own.
    parts = [text] if _fits(text, size, width) else text.split(" / ")
    lines = [line for part in parts for line in _break_lines(part, size, width)]
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and not _fits(last + "…", size, width):
            last = last[:-1]
        lines = [*lines[:max_lines - 1], last.rstrip() + "…"]
    return lines


def _break_lines(text: str, size: float, width: float) -> list[str]:
    lines, line = [], ""
    for char in text:
        if _fits(line + char, size, width):
            line += char
            continue
        # Break at the last space so English words stay whole; Chinese may break anywhere.
        head, space, tail = line.rpartition(" ")
        lines.append(head if space and head else line)
        line = (tail if space and head else "") + char
    return [s.strip() for s in [*lines, line] if s.strip()]


def _fits(text: str, size: float, width: float) -> bool:
    return pdfmetrics.stringWidth(text, TEXT_FONT, size) <= width


def _define_cut_form(canvas: Canvas, columns: int, rows: int, cell_w: float,
                     cell_h: float) -> None:
    page_w, page_h = A4
    canvas.beginForm("cut")
    canvas.setStrokeColor(CUT_LINE)
    canvas.setLineWidth(0.3)
    canvas.setDash(3, 3)
    for i in range(columns + 1):
        canvas.line(MARGIN + i * cell_w, MARGIN, MARGIN + i * cell_w, page_h - MARGIN)
    for j in range(rows + 1):
        canvas.line(MARGIN, MARGIN + j * cell_h, page_w - MARGIN, MARGIN + j * cell_h)
    canvas.endForm()
