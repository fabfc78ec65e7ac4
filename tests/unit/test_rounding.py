"""Rounding to the fen (docs/money.md): half-up, that is half away from zero, done in integers —
checked against exact fractions for any integers, and on exact halves, the one case that tells
half-up from half-even or half-down."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from exchange.money import apply_bps, div_round_half_up
from tests.unit.exact import bps_of, exact_halves, half_fen_amount, half_up


@given(st.tuples(st.integers(-10**16, 10**16), st.integers(1, 10**6)) | exact_halves())
def test_division_rounds_half_away_from_zero_for_any_integers(division):
    num, den = division
    assert div_round_half_up(num, den) == half_up(Fraction(num, den))
    assert div_round_half_up(-num, den) == -div_round_half_up(num, den)


@given(st.integers(0, 10**12), st.integers(0, 10_000), st.integers(0, 10**6))
def test_basis_points_of_an_amount_are_rounded_half_up_to_the_fen(amount, rate, times):
    assert apply_bps(amount, rate) == bps_of(amount, rate)
    halfway = half_fen_amount(rate, times)
    if halfway is not None:
        assert apply_bps(halfway, rate) == bps_of(halfway, rate) == (halfway * rate + 5_000) // 10_000
