"""The rounding rule of docs/money.md worked out with exact fractions: an oracle that shares no
code with exchange.money, for the property tests to check the money functions against."""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import strategies as st


def half_up(value: Fraction) -> int:
    """`value` rounded to the nearest integer, halves away from zero (617.5 → 618, −0.5 → −1)."""
    magnitude = math.floor(abs(value) + Fraction(1, 2))
    return magnitude if value >= 0 else -magnitude


def bps_of(amount: int, rate_bps: int) -> int:
    """`amount` × `rate_bps` / 10,000 to the fen, half-up."""
    return half_up(Fraction(amount * rate_bps, 10_000))


def exact_halves() -> st.SearchStrategy[tuple[int, int]]:
    """(numerator, denominator) pairs whose quotient ends in exactly one half, positive or
    negative: the one case that tells half-up from half-even or half-down, and which random
    integers almost never hit."""
    return st.builds(lambda q, half_den: (q * 2 * half_den + half_den, 2 * half_den),
                     st.integers(-10**10, 10**10), st.integers(1, 5 * 10**5))


def half_fen_amount(rate_bps: int, times: int) -> int | None:
    """An amount whose `rate_bps` share ends in exactly half a fen (its `times`-th such amount),
    or None when the rate never makes one (16 bps: amount × 16 / 10,000 is a whole number of 1/625)."""
    g = math.gcd(rate_bps, 10_000)
    if 5_000 % g:
        return None
    modulus = 10_000 // g
    first = (5_000 // g) * pow(rate_bps // g, -1, modulus) % modulus
    return first + times * modulus
