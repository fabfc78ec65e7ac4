"""Offers: defined by the owner, handed out by its active partners."""

from datetime import timedelta

import pytest

from exchange import clock
from tests.helpers import assert_problem, make_offer, offer_body, partner_up


def test_owner_creates_an_amount_offer(api, world):
    offer = world.offer
    assert offer["owner"] == {"id": world.maternity.id, "name": "暖暖孕婴坊"}
    assert offer["discount"] == {"type": "amount", "amount": 3000}
    assert offer["status"] == "active" and offer["uses_per_coupon"] == 1 and offer["distributors"] == []


def test_percent_offer_needs_a_cap(api, world):
    r = api.post("/api/v1/offers", world.maternity.key,
                 json=offer_body(discount={"type": "percent", "rate_bps": 1500}))
    body = assert_problem(r, 422, "validation_failed")
    assert "max_amount" in body["errors"]["discount"]
    offer = make_offer(api, world.maternity, discount={"type": "percent", "rate_bps": 1500, "max_amount": 5000})
    assert offer["discount"] == {"type": "percent", "rate_bps": 1500, "max_amount": 5000}


@pytest.mark.parametrize("overrides, field", [
    ({"discount": {"type": "percent", "rate_bps": 10001, "max_amount": 100}}, "discount"),
    ({"discount": {"type": "amount", "amount": -5}}, "discount"),
    ({"discount": {"type": "amount", "amount": 0}}, "discount"),
    ({"discount": {"type": "amount", "amount": 100, "rate_bps": 5}}, "discount"),
    ({"min_spend": -1}, "min_spend"),
    ({"budget": -100}, "budget"),
    ({"currency": "RMB"}, "currency"),
    ({"valid_from": "2026-12-01", "valid_until": "2026-12-31"}, "valid_from"),
    ({"valid_until": "2027-01-01T00:00:00"}, "valid_until"),
    ({"uses_per_coupon": 0}, "uses_per_coupon"),
    ({"max_coupons": 0}, "max_coupons"),
    ({"status": "ended"}, "status"),
    ({"coupons_issued": 5}, "coupons_issued"),
])
def test_bad_offers_are_refused(api, world, overrides, field):
    body = assert_problem(api.post("/api/v1/offers", world.maternity.key, json=offer_body(**overrides)), 422)
    assert field in body["errors"]


def test_offer_window_must_be_ordered_and_in_the_future(api, world):
    now = clock.now()
    r = api.post("/api/v1/offers", world.maternity.key, json=offer_body(
        valid_from=(now + timedelta(days=5)).isoformat(), valid_until=(now + timedelta(days=1)).isoformat()))
    assert "valid_until" in assert_problem(r, 422)["errors"]
    r = api.post("/api/v1/offers", world.maternity.key, json=offer_body(
        valid_from=(now - timedelta(days=5)).isoformat(), valid_until=(now - timedelta(days=1)).isoformat()))
    assert "valid_until" in assert_problem(r, 422)["errors"]


def test_distributors_must_be_active_partners(api, world):
    r = api.post("/api/v1/offers", world.maternity.key, json=offer_body(distributors=[world.outsider.id]))
    assert assert_problem(r, 422, "not_a_partner")["merchant_ids"] == [world.outsider.id]


def test_roles_list_what_you_own_and_what_you_may_hand_out(api, world):
    owned = api.get("/api/v1/offers?role=owner", world.maternity.key).get_json()["items"]
    assert [o["id"] for o in owned] == [world.offer["id"]]
    mine = api.get("/api/v1/offers?role=distributor", world.stroller.key).get_json()["items"]
    assert [o["id"] for o in mine] == [world.offer["id"]]
    assert api.get("/api/v1/offers?role=distributor", world.outsider.key).get_json()["items"] == []
    assert api.get("/api/v1/offers?role=owner", world.stroller.key).get_json()["items"] == []
    assert_problem(api.get("/api/v1/offers?role=boss", world.stroller.key), 422)


def test_an_offer_limited_to_some_partners_is_hidden_from_others(api, world):
    toys = api.register("乐乐玩具屋", categories=["toys"])
    partner_up(api, toys, world.maternity)
    only_toys = make_offer(api, world.maternity, distributors=[toys.id])
    assert only_toys["id"] not in [o["id"] for o in api.get("/api/v1/offers?role=distributor",
                                                              world.stroller.key).get_json()["items"]]
    assert_problem(api.get(f"/api/v1/offers/{only_toys['id']}", world.stroller.key), 404)
    assert api.get(f"/api/v1/offers/{only_toys['id']}", toys.key).status_code == 200


def test_only_the_owner_pauses_resumes_and_ends(api, world):
    oid = world.offer["id"]
    assert_problem(api.post(f"/api/v1/offers/{oid}/pause", world.stroller.key), 404)
    assert api.post(f"/api/v1/offers/{oid}/pause", world.maternity.key).get_json()["status"] == "paused"
    assert api.post(f"/api/v1/offers/{oid}/resume", world.maternity.key).get_json()["status"] == "active"
    assert api.post(f"/api/v1/offers/{oid}/end", world.maternity.key).get_json()["status"] == "ended"
    body = assert_problem(api.post(f"/api/v1/offers/{oid}/resume", world.maternity.key), 409, "illegal_transition")
    assert body["current_status"] == "ended"


def test_outsiders_cannot_see_an_offer(api, world):
    assert_problem(api.get(f"/api/v1/offers/{world.offer['id']}", world.outsider.key), 404)
