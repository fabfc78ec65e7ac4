"""Co-funding (SPEC §3, docs/money.md): on a co-funded offer the distributor reimburses
discount × distributor_share_bps / 10,000 rounded half-up to the fen (`apply_bps`, as
`redemptions.services.redeem` computes it); the owner bears the rest. The two parts make up the
discount exactly: no fen lost, none invented. Refunds return it pro rata (test_clawback.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from exchange.money import MAX_AMOUNT, apply_bps
from exchange.redemptions.pricing import clawback_for
from tests.unit.exact import bps_of, half_fen_amount

discounts = st.integers(0, 1000) | st.integers(0, MAX_AMOUNT)
shares = st.integers(0, 10_000)  # offers.distributor_share_bps: 0–10,000 (a schema and a table check)


def split(discount: int, share_bps: int) -> tuple[int, int]:
    """(what the distributor reimburses, what the owner bears) of one redemption's discount."""
    distributor = apply_bps(discount, share_bps)
    return distributor, discount - distributor


@given(discounts, shares)
def test_the_distributors_share_is_the_rate_of_the_discount_rounded_half_up(discount, share):
    assert apply_bps(discount, share) == bps_of(discount, share)


@given(st.integers(1, 10_000), st.integers(0, 10**6))
def test_half_a_fen_goes_to_the_distributors_share(share, times):
    discount = half_fen_amount(share, times)
    if discount is not None:
        assert split(discount, share)[0] == (discount * share + 5_000) // 10_000


@given(discounts, shares)
def test_both_parts_are_whole_fen_never_negative_and_make_up_the_discount(discount, share):
    distributor, owner = split(discount, share)
    assert type(distributor) is int and type(owner) is int
    assert 0 <= distributor <= discount and 0 <= owner <= discount
    assert distributor + owner == discount


@given(discounts)
def test_no_share_costs_the_distributor_nothing_and_a_full_share_costs_it_all(discount):
    assert split(discount, 0) == (0, discount)
    assert split(discount, 10_000) == (discount, 0)


@given(discounts, shares, shares)
def test_a_larger_share_never_costs_the_distributor_less(discount, one, other):
    low, high = sorted((one, other))
    assert apply_bps(discount, high) >= apply_bps(discount, low)


@given(discounts, st.integers(0, MAX_AMOUNT), shares)
def test_a_larger_discount_never_costs_either_side_less(discount, more, share):
    distributor, owner = split(discount, share)
    more_distributor, more_owner = split(discount + more, share)
    assert more_distributor >= distributor and more_owner >= owner


def test_the_owner_bears_what_is_left_because_two_roundings_would_invent_a_fen():
    # Half a fen each way, rounded half-up twice, would be 2 fen of a 1-fen discount.
    assert apply_bps(1, 5_000) + apply_bps(1, 10_000 - 5_000) == 2
    assert sum(split(1, 5_000)) == 1


@given(st.integers(1, 10**9), st.data())
def test_refunds_return_the_cofunding_pro_rata_and_all_of_it_on_the_full_amount(paid, data):
    cofunding = split(data.draw(st.integers(0, 10**9)), data.draw(shares))[0]
    refunds = data.draw(st.lists(st.integers(1, paid), max_size=6))
    returned = refunded = 0
    for refund in refunds:
        refund = min(refund, paid - refunded)
        if not refund:
            break
        returned += clawback_for(commission=cofunding, clawed_so_far=returned, paid=paid,
                                 refunded_so_far=refunded, refund=refund)
        refunded += refund
        assert 0 <= returned <= cofunding
    last = paid - refunded
    if last:
        returned += clawback_for(commission=cofunding, clawed_so_far=returned, paid=paid,
                                 refunded_so_far=refunded, refund=last)
    assert returned == cofunding


def test_the_cofunding_example_of_the_docs():
    assert split(3_000, 5_000) == (1_500, 1_500)
    assert split(1, 5_000) == (1, 0)  # half a fen rounds up, to the distributor's share
