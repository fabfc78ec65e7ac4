"""No coupon that cannot be honoured: issuing (single, batch, pack) refuses an offer whose budget
or coupon count is used up, or whose owner is suspended; an offer that gives orders away is
refused at creation unless its owner asks for it."""

from __future__ import annotations

import uuid

import pytest

from tests.helpers import assert_problem, make_offer, offer_body


def ways_to_issue(api, world, offer_id):
    """Each way a distributor hands out a coupon of the offer, as a callable → response."""
    other = make_offer(api, world.maternity, title="第二个优惠")
    return {
        "single": lambda: api.post(f"/api/v1/offers/{offer_id}/coupons", world.stroller.key, json={}),
        "batch": lambda: api.post(f"/api/v1/offers/{offer_id}/coupon-batches", world.stroller.key, json={"count": 5}),
        "pack": lambda: api.post("/api/v1/packs", world.stroller.key, json={"offer_ids": [offer_id, other["id"]]}),
    }


def redeem(api, world, payload, amount=25000):
    r = api.post("/api/v1/redemptions", world.maternity.terminal_key, headers={"Idempotency-Key": str(uuid.uuid4())},
                 json={"payload": payload, "order_amount": amount})
    assert r.status_code == 201, r.get_json()


def test_an_offer_whose_budget_cannot_fund_another_discount_issues_nothing(api, world):
    offer = make_offer(api, world.maternity, budget=5000)  # ¥50: one ¥30 discount, not two
    first = api.post(f"/api/v1/offers/{offer['id']}/coupons", world.stroller.key, json={}).get_json()["items"][0]
    redeem(api, world, first["payload"])
    for way, issue in ways_to_issue(api, world, offer["id"]).items():
        body = assert_problem(issue(), 409, "budget_exhausted")
        assert body["budget_left"] == 2000 and body["budget"] == 5000, way
        assert "¥20.00 of ¥50.00 is left, less than one coupon's ¥30.00" in body["detail"], way


def test_an_offer_that_has_issued_all_its_coupons_issues_nothing(api, world):
    offer = make_offer(api, world.maternity, max_coupons=3)
    too_many = assert_problem(api.post(f"/api/v1/offers/{offer['id']}/coupons", world.stroller.key,
                                       json={"count": 4}), 409, "max_coupons_reached")
    assert too_many["coupons_left"] == 3 and "Only 3 more coupons" in too_many["detail"]
    assert api.post(f"/api/v1/offers/{offer['id']}/coupons", world.stroller.key, json={"count": 3}).status_code == 201
    for way, issue in ways_to_issue(api, world, offer["id"]).items():
        body = assert_problem(issue(), 409, "max_coupons_reached")
        assert body["coupons_left"] == 0 and "all of its 3 coupons" in body["detail"], way


def test_a_suspended_owners_offer_issues_nothing(api, world, app):
    ways = ways_to_issue(api, world, world.offer["id"])
    assert api.post(f"/api/v1/operator/merchants/{world.maternity.id}/suspend",
                    app.config["OPERATOR_KEY"]).status_code == 200
    for issue in ways.values():
        assert_problem(issue(), 409, "owner_suspended")


@pytest.mark.parametrize("discount, min_spend", [
    ({"type": "amount", "amount": 3000}, 3000),
    ({"type": "amount", "amount": 30000}, 20000),  # ¥300 typed for ¥30
    ({"type": "amount", "amount": 3000}, 0),
    ({"type": "percent", "rate_bps": 10000, "max_amount": 5000}, 20000),
])
def test_an_offer_that_gives_orders_away_is_refused_unless_asked_for(api, world, discount, min_spend):
    body = offer_body(discount=discount, min_spend=min_spend)
    refused = assert_problem(api.post("/api/v1/offers", world.maternity.key, json=body), 422, "free_order")
    assert "discount" in refused["errors"] and "allow_free_order" in refused["errors"]["discount"][0]
    meant = api.post("/api/v1/offers", world.maternity.key, json={**body, "allow_free_order": True})
    assert meant.status_code == 201, meant.get_json()
    assert "allow_free_order" not in meant.get_json()


def test_an_ordinary_offer_needs_no_flag(api, world):
    ok = api.post("/api/v1/offers", world.maternity.key,
                  json=offer_body(discount={"type": "amount", "amount": 2999}, min_spend=3000))
    assert ok.status_code == 201
    assert_problem(api.post("/api/v1/offers", world.maternity.key, json=offer_body(allow_free_order="yes")), 422)
