"""Netting (SPEC §4.4): positions sum to zero, the plan settles every position, N−1 transfers."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.settlement.netting import (
    BILATERAL,
    MULTILATERAL,
    Flow,
    PairObligation,
    bilateral_plan,
    gross,
    multilateral_plan,
    pair,
    plan,
    positions,
    settle_pairs,
)

amounts = st.integers(min_value=0, max_value=10**9)
flows = st.builds(Flow, commission=amounts, clawback=st.integers(0, 10**6), cofunding=amounts,
                  cofunding_returned=st.integers(0, 10**6), adjustment=st.integers(-10**6, 10**6))


@st.composite
def obligation_graphs(draw):
    """Random obligations among up to 12 merchants in one or two currencies."""
    merchants = draw(st.integers(2, 12))
    edges = draw(st.lists(st.tuples(st.integers(1, merchants), st.integers(1, merchants),
                                    st.sampled_from(["CNY", "HKD"])), max_size=40))
    obligations = {}
    for x, y, currency in edges:
        if x == y:
            continue
        a, b = pair(x, y)
        if (currency, a, b) not in obligations:
            obligations[(currency, a, b)] = PairObligation(currency, a, b, draw(flows), draw(flows),
                                                           carried_in=draw(st.integers(-500, 500)))
    return list(obligations.values())


def apply(transfers, balances):
    after = defaultdict(int, balances)
    for t in transfers:
        after[(t.currency, t.payer)] += t.amount
        after[(t.currency, t.payee)] -= t.amount
    return after


@settings(max_examples=300)
@given(obligation_graphs(), st.integers(0, 1000))
def test_positions_sum_to_zero_and_both_plans_settle_every_position(obligations, min_transfer):
    settled = settle_pairs(obligations, min_transfer)
    balances = positions(settled)
    for currency in {c for c, _ in balances}:
        assert sum(v for (c, _), v in balances.items() if c == currency) == 0
    for transfers in (bilateral_plan(settled), multilateral_plan(balances)):
        assert all(t.amount > 0 and t.payer != t.payee for t in transfers)
        assert all(v == 0 for v in apply(transfers, balances).values())


@settings(max_examples=300)
@given(obligation_graphs(), st.integers(0, 1000))
def test_multilateral_needs_at_most_n_minus_1_transfers_per_currency(obligations, min_transfer):
    balances = positions(settle_pairs(obligations, min_transfer))
    transfers = multilateral_plan(balances)
    for currency in {c for c, _ in balances}:
        n = sum(1 for (c, _), v in balances.items() if c == currency and v != 0)
        assert sum(1 for t in transfers if t.currency == currency) <= max(n - 1, 0)


@settings(max_examples=200)
@given(obligation_graphs())
def test_bilateral_and_multilateral_give_the_same_net_positions(obligations):
    settled = settle_pairs(obligations, 0)
    balances = positions(settled)

    def received(transfers):
        net = defaultdict(int)
        for t in transfers:
            net[(t.currency, t.payee)] += t.amount
            net[(t.currency, t.payer)] -= t.amount
        return {k: v for k, v in net.items() if v}

    expected = {k: v for k, v in balances.items() if v}
    assert received(plan(settled, BILATERAL)) == expected == received(plan(settled, MULTILATERAL))


@given(obligation_graphs(), st.integers(1, 1000))
def test_a_small_net_is_carried_forward_never_paid(obligations, min_transfer):
    for o in settle_pairs(obligations, min_transfer):
        assert o.net == o.a_to_b.owed - o.b_to_a.owed + o.carried_in
        assert o.payable + o.carried_out == o.net
        assert o.carried_out == 0 or abs(o.carried_out) < min_transfer
        assert o.payable == 0 or abs(o.payable) >= min_transfer


def test_a_held_pair_is_left_out_of_the_plan():
    owes = [PairObligation("CNY", 1, 2, Flow(commission=500)), PairObligation("CNY", 2, 3, Flow(commission=300))]
    settled = settle_pairs(owes, 0)
    assert plan(settled, BILATERAL, held={("CNY", 1, 2)}) == [
        t for t in bilateral_plan(settled) if (t.payer, t.payee) == (2, 3)]
    assert sum(t.amount for t in plan(settled, MULTILATERAL, held={("CNY", 1, 2)})) == 300


def test_three_merchants_in_a_circle_settle_with_fewer_transfers():
    # 1 owes 2 ¥100, 2 owes 3 ¥100, 3 owes 1 ¥80: bilateral needs three transfers, netting one.
    owes = settle_pairs([PairObligation("CNY", 1, 2, Flow(commission=10000)),
                         PairObligation("CNY", 2, 3, Flow(commission=10000)),
                         PairObligation("CNY", 1, 3, b_to_a=Flow(commission=8000))], 0)
    assert len(bilateral_plan(owes)) == 3
    assert [(t.payer, t.payee, t.amount) for t in multilateral_plan(positions(owes))] == [(1, 3, 2000)]
    assert gross(owes) == (3, 28000)


def test_clawbacks_and_returned_cofunding_reduce_what_is_owed():
    flow = Flow(commission=1000, clawback=250, cofunding=300, cofunding_returned=100, adjustment=-50)
    assert flow.owed == 900


@settings(max_examples=200)
@given(obligation_graphs(), st.integers(0, 1000), st.sets(st.integers(1, 12), max_size=4),
       st.sampled_from([BILATERAL, MULTILATERAL]))
def test_nothing_is_paid_to_a_suspended_merchant_and_what_it_owes_is_still_paid(obligations, min_transfer,
                                                                                suspended, mode):
    from exchange.settlement.netting import held_for, payee

    settled = settle_pairs(obligations, min_transfer)
    held = held_for(settled, suspended)
    transfers = plan(settled, mode, held)
    assert all(t.payee not in suspended for t in transfers)
    # Every pair it pays on is left in the plan: its debts net out exactly as without the hold.
    owing = [o for o in settled if (o.currency, o.a, o.b) not in held]
    assert all(payee(o) not in suspended for o in owing)
    for currency, merchant in positions(owing):
        if merchant in suspended:
            paid = sum(t.amount for t in transfers if t.payer == merchant and t.currency == currency)
            assert paid == -positions(owing)[(currency, merchant)]


def without_carry(obligations):
    for o in obligations:
        o.carried_in = 0
    return obligations


@settings(max_examples=200)
@given(obligation_graphs().map(without_carry))
def test_with_nothing_carried_a_position_is_all_that_is_owed_to_the_merchant_less_all_it_owes(obligations):
    expected = defaultdict(int)
    for o in obligations:
        for payer, payee_ in ((o.a, o.b), (o.b, o.a)):
            f = o.flow(payer)
            owed = f.commission - f.clawback + f.cofunding - f.cofunding_returned + f.adjustment
            expected[(o.currency, payee_)] += owed
            expected[(o.currency, payer)] -= owed
    settled = settle_pairs(obligations, 0)
    for mode in (BILATERAL, MULTILATERAL):
        after = apply(plan(settled, mode), {})
        # A transfer's payee ends lower in `apply`'s books by what it received: flip the sign.
        assert {k: -v for k, v in after.items() if v} == {k: v for k, v in expected.items() if v}


@settings(max_examples=200)
@given(obligation_graphs(), st.integers(0, 1000))
def test_netting_never_moves_more_money_than_the_gross_debts_and_what_was_carried_in(obligations, min_transfer):
    settled = settle_pairs(obligations, min_transfer)
    for currency in {o.currency for o in settled}:
        mine = [o for o in settled if o.currency == currency]
        bilateral = sum(t.amount for t in plan(mine, BILATERAL))
        multilateral = sum(t.amount for t in plan(mine, MULTILATERAL))
        assert multilateral <= bilateral <= gross(mine)[1] + sum(abs(o.carried_in) for o in mine)


@settings(max_examples=200)
@given(obligation_graphs(), st.integers(0, 1000))
def test_in_multilateral_netting_no_merchant_both_pays_and_is_paid(obligations, min_transfer):
    transfers = plan(settle_pairs(obligations, min_transfer), MULTILATERAL)
    payers = {(t.currency, t.payer) for t in transfers}
    assert payers.isdisjoint({(t.currency, t.payee) for t in transfers})
