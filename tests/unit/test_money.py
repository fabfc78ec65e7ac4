import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.money import CurrencyMismatch, Money, apply_bps, div_round_half_up


@pytest.mark.parametrize("num,den,expected", [(5, 10, 1), (4, 10, 0), (15, 10, 2), (-5, 10, -1),
                                              (-4, 10, 0), (0, 7, 0), (10, 5, 2)])
def test_division_rounds_half_up(num, den, expected):
    assert div_round_half_up(num, den) == expected


def test_commission_in_basis_points_rounds_to_the_fen():
    assert apply_bps(12345, 500) == 617  # 617.25
    assert apply_bps(12350, 500) == 618  # 617.5 rounds up
    assert apply_bps(100, 0) == 0
    assert apply_bps(100, 10_000) == 100


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=10_000))
def test_bps_never_exceeds_the_amount_and_is_within_half_a_fen(amount, rate):
    result = apply_bps(amount, rate)
    assert 0 <= result <= amount
    assert abs(result * 10_000 - amount * rate) <= 5_000


def test_money_refuses_floats_and_mixed_currencies():
    with pytest.raises(TypeError):
        Money(1.5, "CNY")
    with pytest.raises(ValueError):
        Money(1, "XXX")
    with pytest.raises(CurrencyMismatch):
        Money(1, "CNY") + Money(1, "USD")
    assert Money(3, "CNY") - Money(1, "CNY") == Money(2, "CNY")
