from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.money import (
    CURRENCIES, CurrencyMismatch, Money, apply_bps, div_round_half_up, format_money, major_units,
)
from exchange.offers.pricing import zhe


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


@pytest.mark.parametrize("minor, currency, text", [
    (20000, "CNY", "¥200.00"), (2990, "CNY", "¥29.90"), (5, "CNY", "¥0.05"), (0, "CNY", "¥0.00"),
    (-123456, "CNY", "-¥1,234.56"), (123456789, "HKD", "HK$1,234,567.89"), (100, "TWD", "NT$1.00"),
    (99, "EUR", "€0.99"), (100000, "SGD", "S$1,000.00"), (1, "MOP", "MOP$0.01"), (1, "USD", "US$0.01"),
])
def test_money_is_written_the_way_people_write_it(minor, currency, text):
    assert format_money(minor, currency) == text


def test_every_currency_has_its_symbol():
    assert all(info.symbol for info in CURRENCIES.values())
    with pytest.raises(KeyError):
        format_money(100, "XXX")


def test_an_amount_for_a_spreadsheet_is_the_exact_decimal():
    assert major_units(2990, "CNY") == Decimal("29.90") and str(major_units(-5, "CNY")) == "-0.05"


@pytest.mark.parametrize("rate_bps, zhe_text", [(1500, "85折"), (1000, "9折"), (2000, "8折"), (1250, "8.75折"),
                                                (500, "95折"), (9500, "0.5折"), (10000, "免费")])
def test_a_percent_discount_reads_as_zhe(rate_bps, zhe_text):
    assert zhe(rate_bps) == zhe_text
