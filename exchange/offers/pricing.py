"""What an offer takes off an order, pure."""

from __future__ import annotations

from ..money import apply_bps


def discount_for(*, discount_type: str, amount: int | None, rate_bps: int | None,
                 max_amount: int | None, order_amount: int) -> int:
    """The discount on `order_amount`: never more than the order itself."""
    if discount_type == "amount":
        return min(amount, order_amount)
    return min(apply_bps(order_amount, rate_bps), max_amount, order_amount)


def describe(discount_type: str, amount: int | None, rate_bps: int | None, max_amount: int | None,
             min_spend: int, currency: str, lang: str) -> str:
    """One line for a coupon page or a printed sheet: 立减 ¥30.00 · 满 ¥200.00 可用."""
    money = lambda fen: format_money(fen, currency)  # noqa: E731
    if discount_type == "amount":
        value = f"立减 {money(amount)}" if lang == "zh" else f"{money(amount)} off"
    else:
        pct = f"{rate_bps / 100:g}%"
        value = (f"{pct} 折扣，最多减 {money(max_amount)}" if lang == "zh"
                 else f"{pct} off, up to {money(max_amount)}")
    if min_spend:
        value += f" · 满 {money(min_spend)} 可用" if lang == "zh" else f" · on orders of {money(min_spend)} or more"
    return value


SYMBOLS = {"CNY": "¥", "HKD": "HK$", "MOP": "MOP$", "TWD": "NT$", "USD": "US$", "EUR": "€", "SGD": "S$"}


def format_money(fen: int, currency: str) -> str:
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{SYMBOLS.get(currency, currency + ' ')}{whole:,}.{cents:02d}"
