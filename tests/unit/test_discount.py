"""What an offer takes off an order (docs/money.md, "A redemption, step by step"), for any offer
the API accepts and any order: `amount` offers give the amount, at most the order; `percent`
offers give order × rate_bps / 10,000 rounded half-up, at most `max_amount` and the order.
Orders of at least `min_spend` only; an offer that can pay for a whole order needs
`allow_free_order` (docs/coupons.md)."""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from exchange.money import MAX_AMOUNT
from exchange.offers.pricing import discount_for, full_discount
from exchange.offers.services import _free_order
from tests.unit.exact import bps_of, half_fen_amount

# What the API accepts (offers/schemas.py and the offers table's checks).
amounts = st.integers(1, MAX_AMOUNT)
rates = st.integers(1, 10_000)
min_spends = st.integers(0, MAX_AMOUNT)
fixed_offers = st.builds(dict, discount_type=st.just("amount"), amount=amounts, rate_bps=st.none(),
                         max_amount=st.none())
percent_offers = st.builds(dict, discount_type=st.just("percent"), amount=st.none(), rate_bps=rates,
                           max_amount=amounts)
offers = fixed_offers | percent_offers
# Small orders too: that is where rounding and the "at most the order" rule bite.
orders = st.integers(1, 1000) | amounts


def discount(offer: dict, order: int) -> int:
    return discount_for(**offer, order_amount=order)


@given(offers, orders)
def test_a_discount_is_whole_fen_never_negative_and_never_more_than_the_order(offer, order):
    d = discount(offer, order)
    assert type(d) is int
    assert 0 <= d <= order


@given(fixed_offers, orders)
def test_a_fixed_discount_is_its_amount_or_the_whole_order_when_the_order_is_smaller(offer, order):
    assert discount(offer, order) == (offer["amount"] if order >= offer["amount"] else order)


@given(percent_offers, orders)
def test_a_percent_discount_is_the_rate_of_the_order_rounded_half_up_then_capped(offer, order):
    assert discount(offer, order) == min(bps_of(order, offer["rate_bps"]), offer["max_amount"], order)


@given(rates, st.integers(0, 10**6))
def test_a_percent_discount_that_ends_in_half_a_fen_takes_the_half_fen(rate, times):
    order = half_fen_amount(rate, times)
    if order is not None:
        offer = dict(discount_type="percent", amount=None, rate_bps=rate, max_amount=MAX_AMOUNT)
        assert discount(offer, order) == (order * rate + 5_000) // 10_000


def test_the_rounding_examples_of_the_docs():
    percent = dict(discount_type="percent", amount=None, max_amount=MAX_AMOUNT)
    assert discount(dict(percent, rate_bps=500), 12345) == 617  # 617.25
    assert discount(dict(percent, rate_bps=500), 12350) == 618  # 617.5 rounds up
    assert discount(dict(percent, rate_bps=1200), 25000) == 3000
    assert discount(dict(percent, rate_bps=1200, max_amount=2500), 25000) == 2500


@given(offers, orders, st.integers(0, MAX_AMOUNT))
def test_a_bigger_order_never_gets_a_smaller_discount(offer, order, more):
    assert discount(offer, order + more) >= discount(offer, order)


@given(offers, orders, st.integers(0, MAX_AMOUNT))
def test_a_bigger_order_never_costs_the_customer_less(offer, order, more):
    bigger = order + more
    assert bigger - discount(offer, bigger) >= order - discount(offer, order)


@given(percent_offers, orders, st.integers(0, 10_000), st.integers(0, MAX_AMOUNT))
def test_a_higher_rate_or_a_higher_cap_never_gives_a_smaller_discount(offer, order, more_bps, more_cap):
    better = dict(offer, rate_bps=min(offer["rate_bps"] + more_bps, 10_000),
                  max_amount=offer["max_amount"] + more_cap)
    assert discount(better, order) >= discount(offer, order)


def as_offer(offer: dict) -> SimpleNamespace:
    return SimpleNamespace(discount_type=offer["discount_type"], discount_amount=offer["amount"],
                           discount_rate_bps=offer["rate_bps"], max_discount=offer["max_amount"])


@given(offers, orders)
def test_no_order_gets_more_than_the_full_discount_a_budget_is_checked_against(offer, order):
    assert discount(offer, order) <= full_discount(as_offer(offer))


@given(offers)
def test_a_large_enough_order_gets_the_full_discount(offer):
    most = full_discount(as_offer(offer))
    # Beyond this order the uncapped percentage is at least the cap (and the order covers it).
    order = most if offer["discount_type"] == "amount" else -(-most * 10_000 // offer["rate_bps"])
    assert discount(offer, order) == most


def smallest_order(min_spend: int) -> int:
    """The smallest order the coupon is redeemed on: amounts are at least 1 fen."""
    return max(min_spend, 1)


@given(fixed_offers, min_spends)
def test_a_fixed_discount_is_refused_as_free_exactly_when_its_smallest_order_would_be_free(offer, min_spend):
    # A bigger order never costs less (above), so the smallest order is the one to look at.
    order = smallest_order(min_spend)
    would_be_free = discount(offer, order) == order
    refused = _free_order({"type": "amount", "amount": offer["amount"]}, min_spend, "CNY") is not None
    assert refused == would_be_free


@given(fixed_offers, min_spends, st.integers(0, MAX_AMOUNT))
def test_an_unflagged_fixed_discount_leaves_every_order_it_accepts_something_to_pay(offer, min_spend, more):
    if _free_order({"type": "amount", "amount": offer["amount"]}, min_spend, "CNY") is None:
        order = smallest_order(min_spend) + more
        assert order - discount(offer, order) > 0


@given(percent_offers, orders, min_spends)
def test_100_percent_off_is_refused_as_free_and_pays_every_order_up_to_its_cap(offer, order, min_spend):
    everything = dict(offer, rate_bps=10_000)
    assert _free_order({"type": "percent", "rate_bps": 10_000, "max_amount": offer["max_amount"]},
                       min_spend, "CNY") is not None
    assert discount(everything, order) == min(order, offer["max_amount"])
