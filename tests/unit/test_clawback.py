"""Commission on a sale and its clawback on refunds (docs/money.md, "Refunds"): each refund takes
back commission × refund / paid rounded half-up, except the refund that completes the full
amount, which takes back exactly what is left. The refunds of a sale never add up to more than
was paid (the service refuses them), so neither do the clawbacks add up to more than the
commission. Co-funding comes back on refunds by the same rule."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from exchange.money import MAX_AMOUNT
from exchange.redemptions.pricing import clawback_for, commission_for
from tests.unit.exact import bps_of, half_fen_amount, half_up

paids = st.integers(1, 1000) | st.integers(1, MAX_AMOUNT)


@st.composite
def sales(draw):
    """What a sale was paid and the commission (or co-funding) it owes: a percentage of what
    was paid, or a fixed amount per redemption (which may exceed a small sale)."""
    paid = draw(paids)
    if draw(st.booleans()):
        commission = commission_for("percent", draw(st.integers(0, 10_000)), None, paid)
    else:
        commission = commission_for("fixed", None, draw(st.integers(0, 10_000_000)), paid)
    return paid, commission


@st.composite
def refund_runs(draw, *, complete=None):
    """A sale and the refunds the service lets through, in order: each at least 1 fen and at
    most what is still refundable. `complete`: True ends on the full amount, False stops short."""
    paid, commission = draw(sales())
    refunds, left = [], paid
    while left and len(refunds) < 20:
        if complete is False and left == 1:
            break
        most = left - 1 if complete is False else left
        refunds.append(draw(st.integers(1, most) | st.integers(1, min(most, 100))))
        left -= refunds[-1]
        if complete is None and draw(st.booleans()):
            break
    if complete and left:
        refunds.append(left)
    return paid, commission, refunds


@st.composite
def equal_partial_refunds(draw):
    """A sale refunded in many equal parts short of the whole, where rounding each part half-up
    adds up fastest (3 fen of commission on 10 fen refunded 2 fen at a time: 0.6 → 1 each)."""
    paid = draw(st.integers(2, 500))
    commission = draw(st.integers(0, paid))
    part = draw(st.integers(1, min(paid - 1, 20)))
    return paid, commission, [part] * min((paid - 1) // part, 50)


def claw_back(paid, commission, refunds):
    """Each refund's clawback, as `reverse` computes it from the redemption's running totals."""
    clawed = refunded = 0
    taken = []
    for refund in refunds:
        c = clawback_for(commission=commission, clawed_so_far=clawed, paid=paid,
                         refunded_so_far=refunded, refund=refund)
        taken.append(c)
        clawed, refunded = clawed + c, refunded + refund
    return taken


@given(paids, st.integers(0, 10_000))
def test_a_percent_commission_is_the_rate_of_what_was_paid_rounded_half_up(paid, rate):
    commission = commission_for("percent", rate, None, paid)
    assert type(commission) is int and 0 <= commission <= paid
    assert commission == bps_of(paid, rate)


@given(st.integers(1, 10_000), st.integers(0, 10**6))
def test_a_commission_that_ends_in_half_a_fen_is_rounded_up(rate, times):
    paid = half_fen_amount(rate, times)
    if paid is not None:
        assert commission_for("percent", rate, None, paid) == (paid * rate + 5_000) // 10_000


@given(st.integers(1, 10**9).map(lambda n: 2 * n), st.integers(0, 10**3))
def test_a_clawback_that_ends_in_half_a_fen_is_rounded_up(paid, k):
    # 1 fen refunded of `paid` with a commission of (2k + 1) × paid / 2: a share of exactly k + ½ fen.
    commission = (2 * k + 1) * paid // 2
    assert clawback_for(commission=commission, clawed_so_far=0, paid=paid, refunded_so_far=0, refund=1) == k + 1


@given(paids, st.integers(0, 10_000_000))
def test_a_fixed_commission_is_the_fixed_amount_whatever_was_paid(paid, fixed):
    assert commission_for("fixed", None, fixed, paid) == fixed


@given(refund_runs())
def test_every_clawback_is_whole_fen_and_never_negative(run):
    assert all(type(c) is int and c >= 0 for c in claw_back(*run))


@given(refund_runs() | equal_partial_refunds())
def test_clawbacks_never_add_up_to_more_than_the_commission(run):
    paid, commission, refunds = run
    taken = claw_back(*run)
    for i in range(len(taken)):
        assert sum(taken[: i + 1]) <= commission


@given(sales())
def test_a_full_refund_claws_back_all_of_the_commission(sale):
    paid, commission = sale
    assert claw_back(paid, commission, [paid]) == [commission]


@given(refund_runs(complete=True))
def test_partial_refunds_that_reach_the_full_amount_claw_back_exactly_the_commission(run):
    paid, commission, refunds = run
    assert sum(claw_back(*run)) == commission


@given(refund_runs(complete=False) | equal_partial_refunds())
def test_a_partial_refund_claws_back_its_share_rounded_half_up_unless_less_is_left(run):
    paid, commission, refunds = run
    clawed = 0
    for refund, taken in zip(refunds, claw_back(*run), strict=True):
        assert taken == min(half_up(Fraction(commission * refund, paid)), commission - clawed)
        clawed += taken


@given(refund_runs(complete=False) | equal_partial_refunds())
def test_partial_refunds_stay_within_half_a_fen_per_refund_of_the_pro_rata_share(run):
    paid, commission, refunds = run
    taken = claw_back(*run)
    for i in range(len(refunds)):
        exact = Fraction(commission * sum(refunds[: i + 1]), paid)
        assert abs(sum(taken[: i + 1]) - exact) <= Fraction(i + 1, 2)


@given(sales(), st.data())
def test_refunding_more_never_claws_back_less(sale, data):
    paid, commission = sale
    smaller = data.draw(st.integers(1, paid))
    larger = data.draw(st.integers(smaller, paid))
    assert claw_back(paid, commission, [larger]) >= claw_back(paid, commission, [smaller])


def test_the_refund_example_of_the_docs():
    # 7,000 then 15,000 refunded of a 22,000 sale with 1,100 commission: 350, then what is left.
    assert claw_back(22_000, 1_100, [7_000, 15_000]) == [350, 750]
    # ¥123.45 at 5% is 617.25 → 617 fen; 617.5 → 618.
    assert commission_for("percent", 500, None, 12_345) == 617
    assert commission_for("percent", 500, None, 12_350) == 618
