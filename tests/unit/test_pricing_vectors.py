"""The shared pricing vectors (tests/vectors/pricing.json) against the exchange's own checks: the
offline till's pricing (exchange/static/till/pricing.js, tests/js/pricing.test.js) must give the
same answers, so a till offline tells the customer what the exchange books when it syncs."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from exchange.errors import DomainError
from exchange.redemptions.checks import Loaded, Till, assess
from exchange.redemptions.pricing import check_refund

VECTORS = json.loads((Path(__file__).resolve().parents[1] / "vectors" / "pricing.json").read_text())["vectors"]
NOW = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    """A coupon row (`coupons.context`) of one vector's offer, otherwise valid."""

    discount_type: str
    discount_amount: int | None
    discount_rate_bps: int | None
    max_discount: int | None
    min_spend: int
    budget: int | None
    budget_spent: int = 0
    id: int = 11
    code: str = "ABCD2345EFGHJ"
    owner_id: int = 1
    distributor_id: int = 2
    customer_pseudonym: str | None = None
    uses_left: int = 1
    expires_at: datetime = NOW + timedelta(days=30)
    coupon_status: str = "active"
    offer_id: int = 3
    offer_status: str = "active"
    title: str = "vector"
    valid_from: datetime = NOW - timedelta(days=1)
    currency: str = "CNY"
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


def _row(offer: dict) -> Row:
    d = offer["discount"]
    # The catalog gives what a budget has left; the row, the budget and what it has spent.
    left = offer.get("budget_left")
    return Row(discount_type=d["type"], discount_amount=d.get("amount"), discount_rate_bps=d.get("rate_bps"),
               max_discount=d.get("max_amount"), min_spend=offer["min_spend"],
               budget=None if left is None else left + 10_000, budget_spent=0 if left is None else 10_000)


def test_there_are_vectors_and_they_include_half_fen_cases():
    assert len(VECTORS) >= 25
    assert any("half" in v["name"] for v in VECTORS)
    assert any(v["order_amount"] * v["offer"]["discount"].get("rate_bps", 0) > 2**53 for v in VECTORS)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_the_exchange_prices_each_shared_vector_as_written(vector):
    expected = vector["expected"]
    loaded = Loaded(_row(vector["offer"]))
    if "refused" in expected:
        with pytest.raises(DomainError) as refused:
            assess(loaded, Till(7, 1), vector["order_amount"], at=NOW, zone="Asia/Shanghai")
        assert refused.value.code == expected["refused"]
    else:
        a = assess(loaded, Till(7, 1), vector["order_amount"], at=NOW, zone="Asia/Shanghai")
        assert (a.discount, a.paid) == (expected["discount"], expected["payable"])


REFUNDS = json.loads((Path(__file__).resolve().parents[1] / "vectors" / "pricing.json").read_text())["refunds"]


def test_there_are_refund_vectors_with_an_overshoot_and_a_refund_after_the_full_one():
    assert len(REFUNDS) >= 6
    assert any(e.get("refused") == "refund_exceeds_paid" for v in REFUNDS for e in v["expected"])
    assert any(e.get("refused") == "already_reversed" for v in REFUNDS for e in v["expected"])


@pytest.mark.parametrize("vector", REFUNDS, ids=[v["name"] for v in REFUNDS])
def test_the_exchange_takes_or_refuses_each_shared_refund_as_written(vector):
    refunded = 0
    for refund, expected in zip(vector["refunds"], vector["expected"], strict=True):
        if "refused" in expected:
            with pytest.raises(DomainError) as refused:
                check_refund(paid=vector["paid"], refunded_so_far=refunded, refund=refund, currency="CNY")
            assert refused.value.code == expected["refused"]
            assert refused.value.extra.get("refundable", 0) == expected["refundable"]
        else:
            check_refund(paid=vector["paid"], refunded_so_far=refunded, refund=refund, currency="CNY")
            refunded += refund
            assert vector["paid"] - refunded == expected["left"]
