"""The page tells what the till will do (SPEC §4.10): for every reason a coupon cannot be used
now, the customer's page (HTML and JSON), `verify` and a redemption agree, on an order above
the minimum spend."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from exchange import clock
from exchange.coupons.state import STATUSES
from tests.helpers import assert_problem, make_offer

ORDER = 25_000  # above the offer's ¥200.00 minimum spend


def issue(api, world, offer_id=None) -> dict:
    r = api.post(f"/api/v1/offers/{offer_id or world.offer['id']}/coupons", world.stroller.key, json={})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["items"][0]


def part(api, coupon, lang="zh") -> dict:
    r = api.get(f"/c/{coupon['payload']}", headers={"Accept": "application/json"}, query_string={"lang": lang})
    assert r.status_code == 200
    return r.get_json()["parts"][0]


def verify(api, world, coupon) -> dict:
    r = api.post("/api/v1/redemptions/verify", world.maternity.terminal_key,
                 json={"payload": coupon["payload"], "order_amount": ORDER})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def redeem(api, world, coupon):
    return api.post("/api/v1/redemptions", world.maternity.terminal_key, headers={"Idempotency-Key": str(uuid.uuid4())},
                    json={"payload": coupon["payload"], "order_amount": ORDER})


def partnership_id(api, world) -> int:
    items = api.get("/api/v1/partnerships", world.stroller.key).get_json()["items"]
    return next(p["id"] for p in items if world.maternity.id in (p["proposer_id"], p["partner_id"]))


# What puts a coupon in each state: a function of (api, world, operator key) returning the coupon.
def _valid(api, world, operator):
    return issue(api, world)


def _not_started(api, world, operator):
    later = make_offer(api, world.maternity, valid_from=(clock.now() + timedelta(days=2)).isoformat())
    return issue(api, world, later["id"])


def _paused(api, world, operator):
    coupon = issue(api, world)
    assert api.post(f"/api/v1/offers/{world.offer['id']}/pause", world.maternity.key).status_code == 200
    return coupon


def _budget_exhausted(api, world, operator):
    small = make_offer(api, world.maternity, budget=4000)  # one ¥30 discount, not two
    first, second = issue(api, world, small["id"]), issue(api, world, small["id"])
    assert redeem(api, world, first).status_code == 201
    return second


def _partnership_inactive(api, world, operator):
    coupon = issue(api, world)
    pid = partnership_id(api, world)
    assert api.post(f"/api/v1/partnerships/{pid}/pause", world.maternity.key).status_code == 200
    return coupon


def _owner_suspended(api, world, operator):
    coupon = issue(api, world)
    assert api.post(f"/api/v1/operator/merchants/{world.maternity.id}/suspend", operator).status_code == 200
    return coupon


def _used(api, world, operator):
    coupon = issue(api, world)
    assert redeem(api, world, coupon).status_code == 201
    return coupon


def _expired(api, world, operator):
    coupon = issue(api, world)
    clock.advance(timedelta(days=31))
    return coupon


def _revoked(api, world, operator):
    coupon = issue(api, world)
    assert api.post(f"/api/v1/offers/{world.offer['id']}/end", world.maternity.key).status_code == 200
    return coupon


CASES = {
    # status: (setup, the till's refusal code, what the zh page says)
    "valid": (_valid, None, "可使用"),
    "not_started": (_not_started, "offer_not_started", "起可以使用"),
    "paused": (_paused, "offer_paused", "商家暂停了此优惠"),
    "budget_exhausted": (_budget_exhausted, "budget_exhausted", "预算已经用完"),
    "partnership_inactive": (_partnership_inactive, "partnership_inactive", "合作目前未生效"),
    "owner_suspended": (_owner_suspended, "owner_suspended", "暂停使用本平台的优惠券"),
    "used": (_used, "coupon_exhausted", "已使用"),
    "expired": (_expired, "coupon_expired", "已过期"),
    "revoked": (_revoked, "coupon_revoked", "已失效"),
}


def test_every_state_the_decision_knows_is_tested_here():
    assert set(CASES) == set(STATUSES)


@pytest.mark.parametrize("status", list(CASES))
def test_the_page_and_the_till_agree(status, api, world, app):
    setup, refusal, words = CASES[status]
    coupon = setup(api, world, app.config["OPERATOR_KEY"])
    shown = part(api, coupon)
    assert (shown["status"], shown["usable"], shown["refusal"]) == (status, refusal is None, refusal)
    assert words in api.get(f"/c/{coupon['payload']}").get_data(as_text=True)
    if status == "owner_suspended":
        # The owner's tills are refused outright: the page says it cannot be used now.
        body = api.post("/api/v1/redemptions/verify", world.maternity.terminal_key,
                        json={"payload": coupon["payload"], "order_amount": ORDER})
        assert_problem(body, 403, "merchant_suspended")
        assert_problem(redeem(api, world, coupon), 403, "merchant_suspended")
        return
    answer = verify(api, world, coupon)
    assert answer["valid"] is (refusal is None) and answer.get("code") == refusal
    redeemed = redeem(api, world, coupon)
    if refusal is None:
        assert redeemed.status_code == 201
    else:
        assert redeemed.get_json()["code"] == refusal


def test_a_coupon_not_started_yet_says_from_when_on_the_page_and_at_the_till(api, world):
    coupon = _not_started(api, world, None)
    shown = part(api, coupon)
    assert shown["usable_from"].endswith("+08:00")
    assert shown["usable_from_text"] in shown["usable_from"].replace("T", " ")
    answer = verify(api, world, coupon)
    assert answer["usable_from"] == shown["usable_from"]
    assert shown["usable_from_text"] in answer["detail"]
    html = api.get(f"/c/{coupon['payload']}").get_data(as_text=True)
    assert f"{shown['usable_from_text']} (北京时间) 起可以使用" in html
    assert "Can be used from" in api.get(f"/c/{coupon['payload']}?lang=en").get_data(as_text=True)


def test_a_suspended_distributors_coupons_still_redeem_for_the_customers_sake(api, world, app):
    coupon = issue(api, world)
    assert api.post(f"/api/v1/operator/merchants/{world.stroller.id}/suspend",
                    app.config["OPERATOR_KEY"]).status_code == 200
    shown = part(api, coupon)
    assert shown["status"] == "valid" and shown["usable"]
    assert verify(api, world, coupon)["valid"] is True
    assert redeem(api, world, coupon).status_code == 201


def test_the_page_carries_machine_readable_amounts_beside_the_display_strings(api, world):
    coupon = issue(api, world)
    shown = part(api, coupon)
    assert shown["discount"] == {"type": "amount", "amount": 3000}
    assert (shown["min_spend"], shown["currency"]) == (20000, "CNY")
    assert shown["value"] == "立减 ¥30.00" and shown["min_spend_text"] == "¥200.00"


def test_a_percent_discount_reads_as_zhe_on_the_chinese_page(api, world):
    offer = make_offer(api, world.maternity, discount={"type": "percent", "rate_bps": 1500, "max_amount": 5000})
    coupon = issue(api, world, offer["id"])
    zh, en = part(api, coupon, "zh"), part(api, coupon, "en")
    assert zh["value"] == "85折，最多减 ¥50.00" and en["value"] == "15% off, up to ¥50.00"
    assert zh["discount"] == {"type": "percent", "rate_bps": 1500, "max_amount": 5000}
    assert "85折" in api.get(f"/c/{coupon['payload']}").get_data(as_text=True)
