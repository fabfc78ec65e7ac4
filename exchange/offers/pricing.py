"""What an offer takes off an order, and how that reads on a page or a sheet, pure."""

from __future__ import annotations

from ..money import apply_bps, format_money


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
        value = (f"{zhe(rate_bps)}，最多减 {money(max_amount)}" if lang == "zh"
                 else f"{rate_bps / 100:g}% off, up to {money(max_amount)}")
    if min_spend:
        value += f" · 满 {money(min_spend)} 可用" if lang == "zh" else f" · on orders of {money(min_spend)} or more"
    return value


def zhe(rate_bps: int) -> str:
    """A percent discount the way Chinese shoppers read it: the share still paid, in tenths —
    15% off is 85折 (pay 85%), 10% off is 9折, 12.5% off is 8.75折, 95% off is 0.5折."""
    paid_bps = 10_000 - rate_bps
    if paid_bps == 0:
        return "免费"  # 100% off: nobody says 0折
    if paid_bps % 1000 == 0:
        return f"{paid_bps // 1000}折"
    if paid_bps % 100 == 0 and paid_bps > 1000:
        return f"{paid_bps // 100}折"
    return f"{paid_bps / 1000:g}折"



def full_discount(offer) -> int:
    """The most a coupon of `offer` takes off any order: its fixed amount, or its percentage's
    cap. A budget with less than this left cannot honour one more coupon on every order it
    applies to, so it honours none (the page and the till then agree on every order). `offer`:
    anything with the offer's discount fields (an Offer, a row)."""
    return offer.discount_amount if offer.discount_type == "amount" else offer.max_discount
