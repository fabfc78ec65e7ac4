"""The monthly statement as a PDF a shop owner can read: who, which month, a summary per
partner, the month's activity as a chart, the transfers, and the statement's SHA-256 — the same
figures as the JSON and the CSV."""

from __future__ import annotations

import io
import math
from datetime import datetime, timedelta

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..files import fonts
from ..files.fonts import TEXT_FONT
from ..http.auth import Principal
from ..money import format_money
from .reports import partnership_report
from .statements import statement

INK = colors.HexColor("#1f2933")
YOU_SENT = colors.HexColor("#3b82f6")
THEY_SENT = colors.HexColor("#f59e0b")
MAX_CHART_PARTNERS = 12

_title = ParagraphStyle("title", fontName=TEXT_FONT, fontSize=16, leading=20, textColor=INK)
_heading = ParagraphStyle("heading", fontName=TEXT_FONT, fontSize=11, leading=15, textColor=INK)
_body = ParagraphStyle("body", fontName=TEXT_FONT, fontSize=9, leading=13, textColor=INK)
_small = ParagraphStyle("small", fontName=TEXT_FONT, fontSize=7.5, leading=10, textColor=colors.grey)
_cell = ParagraphStyle("cell", fontName=TEXT_FONT, fontSize=8, leading=10)


def statement_pdf(principal: Principal, period: str) -> tuple[str, bytes]:
    doc = statement(principal, period)
    report = partnership_report(principal, period)
    return f"statement-{doc['period']}-merchant-{doc['merchant']['id']}.pdf", render(doc, report)


def render(doc: dict, report: dict) -> bytes:
    fonts.register()
    out = io.BytesIO()
    # Every font embedded (exchange/fonts.py), the initial one too: reportlab would otherwise
    # name Helvetica, unembedded, on every page.
    page = SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=14 * mm, rightMargin=14 * mm,
                             topMargin=12 * mm, bottomMargin=12 * mm, initialFontName=TEXT_FONT,
                             title=f"Statement {doc['period']} — {doc['merchant']['name']}",
                             author="Partner Coupon Exchange")
    page.build(_header(doc) + _summary(doc, report) + _chart(report) + _transfers(doc) + _footer(doc))
    return out.getvalue()


def _money(amount: int, currency: str) -> str:
    return format_money(amount, currency)


def _text(markup: str, style) -> Paragraph:
    return Paragraph(markup, style)


def _strong(markup: str) -> str:
    """What matters on a line, a size up: the embedded font has no bold face."""
    return f'<font size="10.5">{markup}</font>'


def _header(doc: dict) -> list:
    merchant = doc["merchant"]
    status = {"closed": f"已结算 closed {doc['closed_at'][:16].replace('T', ' ')} UTC" if doc["closed_at"] else "",
              "skipped": "无往来 no activity (a later month is closed)"}.get(
        doc["status"], "未结算 OPEN — figures so far, provisional")
    mode = {"bilateral": "双边轧差 bilateral", "multilateral": "多边轧差 multilateral"}[doc["netting"]]
    positions = "; ".join(f"{_money(p['net_position'], p['currency'])}" for p in doc["positions"]) or _money(0, "CNY")
    return [
        _text(f"月度结算单 Monthly statement · {doc['period']}", _title),
        Spacer(1, 3 * mm),
        _text(f"商户 Merchant: {_strong(_esc(merchant['name']))} (#{merchant['id']})", _body),
        _text(f"期间 Period: {doc['starts_at'][:10]} – {_last_day(doc['ends_at'])} ({doc['timezone']}) · "
                  f"{status} · {mode}", _body),
        _text(f"净头寸 Net position: {_strong(positions)} (positive: you are owed; negative: you owe)", _body),
        Spacer(1, 4 * mm),
    ]


STATUS = {"provisional": "未结 provisional", "awaiting_confirmation": "待确认 to confirm",
          "confirmed": "已确认 confirmed", "disputed": "争议 disputed", "held": "暂缓 held"}


def _summary(doc: dict, report: dict) -> list:
    activity = {row["partner"]["id"]: row for row in report["partners"]}
    head = ["伙伴 Partner", "发券 Coupons issued\nyou→them / them→you", "核销 Redemptions\nyou→them / them→you",
            "带来销售 Sales brought\n(before refunds)\nto them / to you", "佣金收入\nCommission earned",
            "佣金支出\nCommission paid",
            "退款追回 Clawbacks\non yours / on theirs", "联合出资 Co-funding\nowed to you / by you",
            "结转 Carried\nin / forward", "应收付 Payable", "状态 Status"]
    rows = [[_text(h.replace("\n", "<br/>"), _cell) for h in head]]
    for o in doc["obligations"]:
        c = o["currency"]
        row = activity.get(o["partner"]["id"], {})
        sent, got = row.get("you_sent", {}), row.get("they_sent", {})
        rows.append([
            _text(_esc(o["partner"]["name"] or f"#{o['partner']['id']}"), _cell),
            f"{sent.get('issued', 0)} / {got.get('issued', 0)}",
            f"{_sum(sent, c, 'redemptions')} / {_sum(got, c, 'redemptions')}",
            f"{_money(_sum(sent, c, 'sales_amount'), c)} / {_money(_sum(got, c, 'sales_amount'), c)}",
            _money(o["owed_to_you"]["commission"], c), _money(o["you_owe"]["commission"], c),
            f"{_money(o['owed_to_you']['clawback'], c)} / {_money(o['you_owe']['clawback'], c)}",
            f"{_money(o['owed_to_you']['cofunding'] - o['owed_to_you']['cofunding_returned'], c)} / "
            f"{_money(o['you_owe']['cofunding'] - o['you_owe']['cofunding_returned'], c)}",
            f"{_money(o['carried_in'], c)} / {_money(o['carried_forward'], c)}",
            _money(o["payable"], c), _text(STATUS.get(o["status"], o["status"]), _cell),
        ])
    if len(rows) == 1:
        rows.append(["本月无往来 No activity with any partner this month."] + [""] * (len(head) - 1))
    table = Table(rows, repeatRows=1, colWidths=[42 * mm] + [None] * (len(head) - 1))
    table.setStyle(TableStyle([("SPAN", (0, 1), (-1, 1))] * (len(rows) == 2 and not doc["obligations"]) + [
        ("FONT", (0, 0), (-1, -1), TEXT_FONT, 8), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e5e7eb")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
    ]))
    digests = [_text(f"对账码 Pair digest with {_esc(o['partner']['name'])}: {o['digest']}", _small)
               for o in doc["obligations"]]
    note = _text("Coupons, redemptions and sales: this month's activity (GET /api/v1/reports/partnerships); money: "
                 "the month's ledger, as closed. Commission is shown before clawbacks, which have their own column.",
                 _small)
    return [_text("伙伴汇总 Summary per partner", _heading), Spacer(1, 2 * mm), table, Spacer(1, 1 * mm),
            note, *digests, Spacer(1, 5 * mm)]


def _sum(side: dict, currency: str, field: str) -> int:
    return sum(s[field] for s in side.get("sales", []) if s["currency"] == currency)


def _chart(report: dict) -> list:
    partners = [row for row in report["partners"]
                if any(s["redemptions"] for side in ("you_sent", "they_sent") for s in row[side]["sales"])]
    partners = partners[:MAX_CHART_PARTNERS]
    if not partners:
        return []
    drawing = Drawing(250 * mm, 55 * mm)
    drawing.initialFontName = TEXT_FONT  # the renderer's starting font, else Helvetica (unembedded)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 15 * mm, 10 * mm, 170 * mm, 40 * mm
    chart.data = [[sum(s["redemptions"] for s in row[side]["sales"]) for row in partners]
                  for side in ("you_sent", "they_sent")]
    chart.categoryAxis.categoryNames = [_short(row["partner"]["name"] or f"#{row['partner']['id']}")
                                        for row in partners]
    chart.categoryAxis.labels.fontName = TEXT_FONT
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueStep = max(1, math.ceil(max(max(series) for series in chart.data) / 5))  # whole redemptions
    chart.valueAxis.labels.fontName = TEXT_FONT
    chart.valueAxis.labels.fontSize = 7
    chart.bars[0].fillColor, chart.bars[1].fillColor = YOU_SENT, THEY_SENT
    legend = Legend()
    legend.x, legend.y, legend.fontName, legend.fontSize = 192 * mm, 45 * mm, TEXT_FONT, 7
    legend.colorNamePairs = [(YOU_SENT, "你带去的核销 redeemed there, sent by you"),
                             (THEY_SENT, "伙伴带来的核销 redeemed here, sent by them")]
    drawing.add(chart)
    drawing.add(legend)
    return [_text("本月往来 Redemptions this month, per partner", _heading), drawing, Spacer(1, 3 * mm)]


def _transfers(doc: dict) -> list:
    lines = [_text("转账 Transfers", _heading)]
    for t in doc["transfers"]:
        if t["direction"] == "pay":
            lines.append(_text(f"付款 Pay {_money(t['amount'], t['currency'])} → {_esc(t['payee']['name'])} "
                                   f"(#{t['payee']['id']})", _body))
        else:
            lines.append(_text(f"收款 Receive {_money(t['amount'], t['currency'])} ← {_esc(t['payer']['name'])} "
                                   f"(#{t['payer']['id']})", _body))
    if not doc["transfers"]:
        lines.append(_text("无需转账 Nothing to transfer this month.", _body))
    why = {"disputed": "争议中 Held (disputed)", "held": "暂缓 Held (merchant suspended)"}
    for o in doc["obligations"]:
        if o["status"] in why:
            lines.append(_text(f"{why[o['status']]}: {_esc(o['partner']['name'])} "
                               f"{_money(o['payable'], o['currency'])}", _body))
    return lines + [Spacer(1, 4 * mm)]


def _footer(doc: dict) -> list:
    return [
        _text(f"SHA-256: {doc['digest']}", _small),
        _text("The digest covers this statement's canonical JSON (GET /api/v1/settlements/"
                  f"{doc['period']}); each pair's figures also carry a digest both partners see identically. "
                  "Amounts: positive is owed to you, negative is owed by you.", _small),
    ]


def _short(name: str) -> str:
    """A chart label: the name's first word (a Chinese name, typically), at most 12 characters."""
    return name.split()[0][:12]


def _last_day(ends_at: str) -> str:
    """The period's last local day (it ends at the next month's first midnight)."""
    return (datetime.fromisoformat(ends_at) - timedelta(days=1)).date().isoformat()


def _esc(text: str | None) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
