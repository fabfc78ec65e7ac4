"""Ledger postings (docs/money.md, "The ledger"; SPEC §4.3): every transaction's entries sum to
zero, for any amounts; an entry is positive when money is owed to its merchant; a refund posts
the same accounts with the opposite sign, so a fully refunded sale leaves every account at zero."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import given
from hypothesis import strategies as st

from exchange.ledger import postings
from exchange.ledger.accounts import (
    ADJUSTMENT_PAYABLE,
    ADJUSTMENT_RECEIVABLE,
    COFUNDING_PAYABLE,
    COFUNDING_RECEIVABLE,
    COMMISSION_PAYABLE,
    COMMISSION_RECEIVABLE,
)
from exchange.ledger.postings import Posting, balanced
from exchange.money import CURRENCIES, MAX_AMOUNT
from exchange.redemptions.pricing import clawback_for

merchants = st.integers(1, 2**31 - 1)
pairs = st.tuples(merchants, merchants).filter(lambda p: p[0] != p[1])
# Any amount: negative ones undo (a clawback, a returned co-funding, a correction the other way).
amounts = st.integers(-MAX_AMOUNT, MAX_AMOUNT)
kinds = st.sampled_from([postings.commission, postings.cofunding, postings.adjustment])


def sale_postings(owner: int, distributor: int, commission: int, cofunding: int) -> list[Posting]:
    """One transaction, as `redeem` and `reverse` post it (a refund with the clawbacks negated)."""
    return postings.commission(owner, distributor, commission) + postings.cofunding(owner, distributor, cofunding)


@given(kinds, pairs, amounts)
def test_every_posting_set_sums_to_zero_for_any_amount(kind, pair, amount):
    entries = kind(*pair, amount)
    assert balanced(entries) and sum(p.amount for p in entries) == 0
    assert all(type(p.amount) is int for p in entries)


@given(pairs, amounts, amounts)
def test_a_redemptions_commission_and_cofunding_together_balance(pair, commission, cofunding):
    assert balanced(sale_postings(*pair, commission, cofunding))


@given(kinds, pairs)
def test_nothing_owed_writes_no_entries(kind, pair):
    assert kind(*pair, 0) == []


@given(kinds, pairs, amounts.filter(bool))
def test_the_two_entries_are_each_others_mirror(kind, pair, amount):
    first, second = kind(*pair, amount)
    assert (first.merchant_id, first.counterparty_id) == (second.counterparty_id, second.merchant_id)
    assert first.merchant_id != first.counterparty_id
    assert first.amount == -second.amount


@given(kinds, pairs, amounts)
def test_a_reversal_posts_the_same_accounts_with_the_opposite_sign(kind, pair, amount):
    undo = [(p.merchant_id, p.counterparty_id, p.account, -p.amount) for p in kind(*pair, amount)]
    assert [(p.merchant_id, p.counterparty_id, p.account, p.amount) for p in kind(*pair, -amount)] == undo


@given(pairs, st.integers(1, MAX_AMOUNT), st.integers(1, MAX_AMOUNT))
def test_an_entry_is_positive_for_the_merchant_money_is_owed_to(pair, commission, cofunding):
    owner, distributor = pair
    owed = {(p.merchant_id, p.account): p.amount for p in sale_postings(owner, distributor, commission, cofunding)}
    assert owed == {(distributor, COMMISSION_RECEIVABLE): commission, (owner, COMMISSION_PAYABLE): -commission,
                    (owner, COFUNDING_RECEIVABLE): cofunding, (distributor, COFUNDING_PAYABLE): -cofunding}
    payer, payee = pair
    assert {(p.merchant_id, p.account): p.amount for p in postings.adjustment(payer, payee, commission)} == {
        (payee, ADJUSTMENT_RECEIVABLE): commission, (payer, ADJUSTMENT_PAYABLE): -commission}


@given(kinds, pairs, amounts.filter(bool), st.integers(-MAX_AMOUNT, MAX_AMOUNT).filter(bool))
def test_the_balance_check_sees_an_entry_that_does_not_belong(kind, pair, amount, stray):
    # `ledger.services.post` refuses what `balanced` refuses: it must notice one stray entry.
    assert not balanced(kind(*pair, amount) + [Posting(pair[0], pair[1], COMMISSION_RECEIVABLE, stray)])


@st.composite
def ledgers(draw):
    """Transactions among a few merchants in several currencies: (currency, postings)."""
    few = st.sampled_from([(1, 2), (2, 1), (1, 3), (3, 2)])
    return draw(st.lists(st.builds(lambda kind, pair, amount, currency: (currency, kind(*pair, amount)),
                                   kinds, few, amounts, st.sampled_from(sorted(CURRENCIES))), max_size=30))


@given(ledgers())
def test_per_currency_what_a_merchant_is_owed_by_a_partner_is_what_that_partner_owes_it(ledger):
    # The netting's input: summing one merchant's entries against one counterparty gives what
    # the pair owes each other, the same number seen from either side.
    per_side = defaultdict(int)
    for currency, entries in ledger:
        assert balanced(entries)
        for p in entries:
            per_side[(currency, p.merchant_id, p.counterparty_id)] += p.amount
    for (currency, merchant, counterparty), total in per_side.items():
        assert per_side[(currency, counterparty, merchant)] == -total
    for currency in CURRENCIES:
        assert sum(v for (c, _, _), v in per_side.items() if c == currency) == 0


@st.composite
def sales_with_refunds(draw):
    paid = draw(st.integers(1, 10**9))
    refunds, left = [], paid
    while left and len(refunds) < 8 and draw(st.booleans()):
        refunds.append(draw(st.integers(1, left)))
        left -= refunds[-1]
    return (paid, draw(st.integers(0, 10**7)), draw(st.integers(0, 10**7)), refunds,
            draw(st.booleans()))


@given(pairs, sales_with_refunds())
def test_a_sale_and_its_refunds_leave_each_account_at_what_is_still_owed(pair, sale):
    owner, distributor = pair
    paid, commission, cofunding, refunds, refund_the_rest = sale
    if refund_the_rest and sum(refunds) < paid:
        refunds = refunds + [paid - sum(refunds)]
    transactions = [sale_postings(owner, distributor, commission, cofunding)]
    clawed = returned = refunded = 0
    for refund in refunds:
        so_far = dict(paid=paid, refunded_so_far=refunded, refund=refund)
        c = clawback_for(commission=commission, clawed_so_far=clawed, **so_far)
        f = clawback_for(commission=cofunding, clawed_so_far=returned, **so_far)
        transactions.append(sale_postings(owner, distributor, -c, -f))
        clawed, returned, refunded = clawed + c, returned + f, refunded + refund
    account = defaultdict(int)
    for entries in transactions:
        assert balanced(entries)
        for p in entries:
            account[(p.merchant_id, p.account)] += p.amount
    # What `check-ledger` checks: the entries equal the commission less clawbacks less co-funding.
    assert account[(distributor, COMMISSION_RECEIVABLE)] + account[(distributor, COFUNDING_PAYABLE)] == (
        (commission - clawed) - (cofunding - returned))
    if refunded == paid:
        assert all(v == 0 for v in account.values())
