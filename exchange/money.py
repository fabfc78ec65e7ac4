"""Money is integer minor units (fen) plus an ISO 4217 code: no floats anywhere (SPEC §4.3)."""

from __future__ import annotations

from dataclasses import dataclass

# Currencies the exchange settles in, with their minor-unit exponent. All used here have 2.
CURRENCIES = {"CNY": 2, "HKD": 2, "MOP": 2, "TWD": 2, "USD": 2, "EUR": 2, "SGD": 2}

# 10^12 fen (10 billion yuan) is far beyond any single order a small shop takes; anything larger
# is a client bug, not a sale.
MAX_AMOUNT = 10**12


class CurrencyMismatch(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if type(self.amount) is not int:
            raise TypeError("Money.amount must be an int of minor units")
        if self.currency not in CURRENCIES:
            raise ValueError(f"unknown currency {self.currency!r}")

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} vs {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)


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
