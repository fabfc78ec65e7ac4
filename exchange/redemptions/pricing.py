"""Commission and clawback arithmetic, pure (documented in docs/money.md)."""

from __future__ import annotations

from ..errors import Conflict, Unprocessable
from ..money import apply_bps, div_round_half_up, format_money


def commission_for(commission_type: str, rate_bps: int | None, fixed: int | None, paid: int) -> int:
    """CPS commission on what the customer actually paid: basis points rounded half-up to the
    fen, or a fixed amount per redemption."""
    if commission_type == "percent":
        return apply_bps(paid, rate_bps)
    return fixed


def check_refund(*, paid: int, refunded_so_far: int, refund: int, currency: str) -> None:
    """A refund never exceeds what is left to refund on the redemption: what the customer paid
    less what was refunded. The till checks a refund it takes offline the same way
    (exchange/static/till/pricing.js; the shared vectors' `refunds`)."""
    if refunded_so_far >= paid:
        raise Conflict("This redemption has already been fully reversed.", code="already_reversed")
    left = paid - refunded_so_far
    if refund > left:
        raise Unprocessable(f"At most {format_money(left, currency)} can still be refunded on this "
                            "redemption.", code="refund_exceeds_paid", refundable=left, currency=currency)


def clawback_for(*, commission: int, clawed_so_far: int, paid: int, refunded_so_far: int,
                 refund: int) -> int:
    """The commission a refund takes back, pro rata to the refunded share of what was paid.

    The refund that completes the full amount takes back exactly what is left, so rounding on
    partial refunds can never leave a stray fen of commission behind or take back too much.
    """
    if refunded_so_far + refund >= paid:
        return commission - clawed_so_far
    share = div_round_half_up(commission * refund, paid) if paid else 0
    return min(share, commission - clawed_so_far)
