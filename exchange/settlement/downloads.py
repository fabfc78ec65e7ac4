"""A merchant's statement as files — CSV, XLSX, PDF — for the merchant or for the operator.

The CSV and the XLSX hold the same table (`exchange/spreadsheets.py` writes both): one row per
redemption, reversal and adjustment, then per partner the carried balances and a subtotal equal
to the JSON's `payable`, then per currency a total equal to `net_position`. The first column,
`row`, tells them apart: `line`, `balance`, `subtotal`, `total`.

The operator downloads any merchant's statement (`?merchant_id=`); every statement file handed
out, to the operator or to the merchant itself, is recorded in the audit trail
(`statement.downloaded`, with the format), so a merchant can learn who read its figures.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from .. import audit
from ..coupons.codes import display
from ..db.unit_of_work import unit_of_work
from ..errors import NotFound, Unprocessable
from ..extensions import db
from ..files.spreadsheets import INSTANT, INTEGER, MONEY, Column, Line, csv_chunks, write_xlsx
from ..http.auth import Principal
from ..merchants.models import Merchant
from ..periods import Period
from . import pdf
from .ledger_scope import merchant_lines
from .netting import PairObligation
from .period_view import PeriodState, names, obligations_of, period_state, zone

COLUMNS = [
    Column("row", label="行 row", width=9), Column("period", label="期间 period", width=9),
    Column("posted_at", INSTANT, "记账时间 posted_at", 19), Column("type", label="类型 type", width=15),
    Column("ledger_transaction", INTEGER, "账务号 ledger_transaction"),
    Column("redemption_id", INTEGER, "核销号 redemption_id"), Column("reversal_id", INTEGER, "退款号 reversal_id"),
    Column("redeemed_in", label="核销月 redeemed_in", width=10), Column("partner_id", INTEGER, "伙伴号 partner_id"),
    Column("partner_name", label="伙伴 partner_name", width=22), Column("your_role", label="角色 your_role"),
    Column("coupon_code", label="券码 coupon_code", width=17), Column("order_ref", label="订单号 order_ref", width=14),
    Column("order_amount", MONEY, "订单金额 order_amount"), Column("discount", MONEY, "优惠 discount"),
    Column("paid_amount", MONEY, "实付 paid_amount"), Column("refund_amount", MONEY, "退款 refund_amount"),
    Column("commission", MONEY, "佣金 commission"), Column("cofunding", MONEY, "联合出资 cofunding"),
    Column("adjustment", MONEY, "调整 adjustment"), Column("amount", MONEY, "金额 amount", 14),
    Column("currency", label="币种 currency", width=8),
]


def subject(principal: Principal, merchant_id: int | None) -> Principal:
    """Whose statement: the calling merchant's own, or, for the operator, the one it names."""
    if principal.kind != "operator":
        if merchant_id not in (None, principal.merchant_id):
            raise NotFound("No such merchant.")
        return principal
    if merchant_id is None:
        raise Unprocessable("Say whose statement: `?merchant_id=`.", code="validation_failed",
                            errors={"merchant_id": ["Required with the operator key."]})
    if db.session.get(Merchant, merchant_id) is None:
        raise NotFound("No such merchant.")
    return Principal(kind="merchant", merchant_id=merchant_id)


def record_download(principal: Principal, whose: Principal, period: str, fmt: str) -> None:
    with unit_of_work() as uow:
        session = uow.session
        audit.record(session, actor=principal.actor, merchant_id=whose.merchant_id,
                     action="statement.downloaded", subject_type="statement",
                     subject_id=f"{period}:{whose.merchant_id}", format=fmt)


def statement_csv(principal: Principal, period_text: str, merchant_id: int | None) -> tuple[str, Iterator[str]]:
    """(filename, streamed CSV text) of the statement; see the module's docstring."""
    whose = subject(principal, merchant_id)
    filename, lines = _statement_lines(whose, period_text)
    record_download(principal, whose, period_text, "csv")
    return f"{filename}.csv", csv_chunks(COLUMNS, lines)


def statement_xlsx(principal: Principal, period_text: str, merchant_id: int | None):
    """(filename, a spooled file holding the XLSX, rewound)."""
    whose = subject(principal, merchant_id)
    filename, lines = _statement_lines(whose, period_text)
    record_download(principal, whose, period_text, "xlsx")
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - returned, rewound
    write_xlsx(out, f"结算单 {period_text}", COLUMNS, lines)
    out.seek(0)
    return f"{filename}.xlsx", out


def statement_pdf(principal: Principal, period_text: str, merchant_id: int | None) -> tuple[str, bytes]:
    whose = subject(principal, merchant_id)
    filename, body = pdf.statement_pdf(whose, period_text)
    record_download(principal, whose, period_text, "pdf")
    return filename, body


def _statement_lines(whose: Principal, period_text: str) -> tuple[str, Iterator[Line]]:
    state = period_state(period_text)
    me = whose.merchant_id
    obligations = obligations_of(state, me)
    return f"statement-{state.period}-merchant-{me}", _lines(state, me, obligations)


def _lines(state: PeriodState, me: int, obligations: list[PairObligation]) -> Iterator[Line]:
    tz = ZoneInfo(zone())
    period = str(state.period)
    who = names({o.b if me == o.a else o.a for o in obligations})
    for line in merchant_lines(db.session, state.scope, me):
        role = "" if line.owner_id is None else ("owner" if line.owner_id == me else "distributor")
        yield Line({
            "row": "line", "period": period, "posted_at": line.posted_at.astimezone(tz), "type": line.kind,
            "ledger_transaction": line.id, "redemption_id": line.redemption_id,
            "reversal_id": line.reversal_id,
            "redeemed_in": str(Period.containing(line.redeemed_at, tz)) if line.redeemed_at else None,
            "partner_id": line.counterparty_id, "partner_name": who.get(line.counterparty_id),
            "your_role": role, "coupon_code": display(line.code) if line.code else None,
            # A distributor does not see the owner's order numbers.
            "order_ref": line.order_ref if role == "owner" else None,
            "order_amount": line.order_amount, "discount": line.discount, "paid_amount": line.paid_amount,
            "refund_amount": line.refund_amount, "commission": line.commission, "cofunding": line.cofunding,
            "adjustment": line.adjustment, "amount": line.amount, "currency": line.currency,
        }, currency=line.currency)
    totals: dict[str, int] = defaultdict(int)
    for o in sorted(obligations, key=lambda o: (o.currency, o.b if me == o.a else o.a)):
        partner = o.b if me == o.a else o.a
        sign = 1 if me == o.b else -1
        pair = {"period": period, "partner_id": partner, "partner_name": who.get(partner), "currency": o.currency}
        if o.carried_in:
            yield Line({**pair, "row": "balance", "type": "carried_in", "amount": sign * o.carried_in},
                       currency=o.currency)
        if o.carried_out:
            yield Line({**pair, "row": "balance", "type": "carried_forward", "amount": -sign * o.carried_out},
                       currency=o.currency)
        yield Line({**pair, "row": "subtotal", "type": "partner_total", "amount": sign * o.payable},
                   total=True, currency=o.currency)
        totals[o.currency] += sign * o.payable
    for currency, total in sorted(totals.items()):
        yield Line({"row": "total", "period": period, "type": "total", "amount": total, "currency": currency},
                   total=True, currency=currency)
