"""Money is integer minor units (fen) plus an ISO 4217 code: no floats anywhere (SPEC §4.3)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class CurrencyInfo:
    exponent: int  # minor units per major unit = 10**exponent
    symbol: str  # how people in the exchange's markets write it before the amount


# Currencies the exchange settles in. All used here have 2 decimals; the symbols are the ones
# that tell the region's dollars apart (a Hong Kong shop's "$" is not a Singapore one's).
CURRENCIES = {
    "CNY": CurrencyInfo(2, "¥"), "HKD": CurrencyInfo(2, "HK$"), "MOP": CurrencyInfo(2, "MOP$"),
    "TWD": CurrencyInfo(2, "NT$"), "USD": CurrencyInfo(2, "US$"), "EUR": CurrencyInfo(2, "€"),
    "SGD": CurrencyInfo(2, "S$"),
}

# What every amount field says in the API: the unit, with an example a developer cannot misread.
FEN_HINT = "integer fen: ¥29.90 = 2990"

# 10^12 fen (10 billion yuan) is far beyond any single order a small shop takes; anything larger
# is a client bug, not a sale.
MAX_AMOUNT = 10**12


def div_round_half_up(numerator: int, denominator: int) -> int:
    """Integer division rounded half away from zero (commercial rounding to the fen)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    quotient, remainder = divmod(abs(numerator), denominator)
    if remainder * 2 >= denominator:
        quotient += 1
    return sign * quotient


def apply_bps(amount: int, rate_bps: int) -> int:
    """`amount` × `rate_bps` / 10,000, rounded half-up to the minor unit."""
    return div_round_half_up(amount * rate_bps, 10_000)


def format_money(minor: int, currency: str) -> str:
    """An amount as people write it: `¥200.00`, `-HK$1,234.50`. For messages and documents only;
    every API field keeps the integer minor units."""
    info = CURRENCIES[currency]
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**info.exponent)
    decimals = f".{fraction:0{info.exponent}d}" if info.exponent else ""
    return f"{sign}{info.symbol}{whole:,}{decimals}"


def major_units(minor: int, currency: str) -> Decimal:
    """The amount in yuan (dollars, euros), exactly, for a spreadsheet cell: 2990 → 29.90."""
    return Decimal(minor).scaleb(-CURRENCIES[currency].exponent)
