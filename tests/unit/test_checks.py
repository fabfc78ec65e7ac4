"""The till's checks (`redemptions.checks.assess`) as pure functions of one loaded row: no
database, no app. The API tests drive the same checks through the service."""

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.errors import DomainError, NotFound
from exchange.redemptions.checks import Loaded, Till, assess

NOW = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)
ZONE = "Asia/Shanghai"
TILL = Till(store_id=7, merchant_id=1)


@dataclass(frozen=True)
class Row:
    """The columns `coupons.context` loads, for a valid ¥30-off-¥200 coupon of merchant 1."""

    id: int = 11
    code: str = "ABCD2345EFGH"
    owner_id: int = 1
    distributor_id: int = 2
    customer_pseudonym: str | None = "p"
    uses_left: int = 1
    expires_at: datetime = NOW + timedelta(days=30)
    coupon_status: str = "active"
    offer_id: int = 3
    offer_status: str = "active"
    title: str = "满200减30"
    valid_from: datetime = NOW - timedelta(days=1)
    min_spend: int = 20000
    currency: str = "CNY"
    discount_type: str = "amount"
    discount_amount: int | None = 3000
    discount_rate_bps: int | None = None
    max_discount: int | None = None
    budget: int | None = None
    budget_spent: int = 0
    per_customer_limit: int | None = None
    distributor_share_bps: int = 0
    partnership_id: int = 5
    terms_id: int | None = 9
    commission_type: str = "percent"
    rate_bps: int | None = 500
    fixed_amount: int | None = None
    monthly_cap: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None


def refusal(loaded, order_amount=25000, till=TILL) -> str:
    with pytest.raises(DomainError) as refused:
        assess(loaded, till, order_amount, at=NOW, zone=ZONE)
    return refused.value.code


def test_a_valid_coupon_costs_what_the_offer_and_terms_say():
    a = assess(Loaded(Row()), TILL, 25000, at=NOW, zone=ZONE)
    assert (a.discount, a.paid, a.commission) == (3000, 22000, 1100)  # 5% of what was paid


def test_refusals_in_the_order_a_cashier_needs_them():
    with pytest.raises(NotFound):
        assess(None, TILL, 25000, at=NOW, zone=ZONE)
    assert refusal(Loaded(Row(owner_id=2))) == "not_accepted_here"
    assert refusal(Loaded(Row(uses_left=0))) == "coupon_exhausted"
    assert refusal(Loaded(Row(terms_id=None))) == "partnership_inactive"
    assert refusal(Loaded(Row()), order_amount=19999) == "below_min_spend"
    assert refusal(Loaded(Row(per_customer_limit=2), customer_uses=2)) == "customer_limit_reached"
    assert refusal(Loaded(Row(budget=5000, budget_spent=2001))) == "budget_exhausted"
    assert refusal(Loaded(Row(monthly_cap=2000), month_commission=901)) == "commission_cap_reached"


def test_a_coupon_not_usable_yet_says_from_when_in_the_settlement_timezone():
    with pytest.raises(DomainError) as refused:
        assess(Loaded(Row(valid_from=NOW + timedelta(hours=1))), TILL, 25000, at=NOW, zone=ZONE)
    assert refused.value.code == "offer_not_started"
    assert refused.value.extra["usable_from"] == "2026-11-10T13:00:00+08:00"


@given(order=st.integers(min_value=0, max_value=10**9), min_spend=st.integers(min_value=0, max_value=10**6))
def test_the_minimum_spend_is_the_only_order_amount_refused(order, min_spend):
    row = Row(min_spend=max(min_spend, 3001))
    if order < row.min_spend:
        assert refusal(Loaded(row), order_amount=order) == "below_min_spend"
        return
    a = assess(Loaded(row), TILL, order, at=NOW, zone=ZONE)
    assert a.paid == order - a.discount and 0 < a.paid <= order


@given(so_far=st.integers(min_value=0, max_value=5000), cap=st.integers(min_value=0, max_value=5000))
def test_the_monthly_cap_lets_through_exactly_what_fits(so_far, cap):
    loaded = Loaded(replace(Row(), monthly_cap=cap), month_commission=so_far)
    if so_far + 1100 > cap:
        assert refusal(loaded) == "commission_cap_reached"
    else:
        assert assess(loaded, TILL, 25000, at=NOW, zone=ZONE).commission == 1100
