"""Money in words: messages say ¥200.00 and keep the fen in a field; amounts are integer fen and
say so; codes typed with a Chinese input method are found."""

from __future__ import annotations

import uuid

import pytest

from tests.helpers import assert_problem, at, offer_body

HINT = "integer fen: ¥29.90 = 2990"


def issue(api, world) -> dict:
    return api.post(f"/api/v1/offers/{world.offer['id']}/coupons", world.stroller.key, json={}).get_json()["items"][0]


def redeem(api, world, payload, amount):
    return api.post("/api/v1/redemptions", world.maternity.terminal_key, headers={"Idempotency-Key": str(uuid.uuid4())},
                    json={"payload": payload, "order_amount": amount})


def test_a_refusal_below_the_minimum_spend_names_it_in_yuan_and_in_fen(api, world):
    coupon = issue(api, world)
    body = assert_problem(redeem(api, world, coupon["payload"], 19999), 422, "below_min_spend")
    assert body["detail"] == "This coupon needs an order of at least ¥200.00."
    assert (body["min_spend"], body["currency"]) == (20000, "CNY")
    answer = api.post("/api/v1/redemptions/verify", world.maternity.terminal_key,
                      json={"payload": coupon["payload"], "order_amount": 19999}).get_json()
    assert answer["detail"] == body["detail"] and answer["min_spend"] == 20000


def test_a_refund_beyond_what_was_paid_names_what_is_left_in_yuan(api, world):
    sale = redeem(api, world, issue(api, world)["payload"], 25000).get_json()  # paid ¥220.00
    r = api.post(f"/api/v1/redemptions/{sale['id']}/reversals", world.maternity.terminal_key,
                 headers={"Idempotency-Key": str(uuid.uuid4())}, json={"refund_amount": 22001, "reason": "退货"})
    body = assert_problem(r, 422, "refund_exceeds_paid")
    assert body["detail"] == "At most ¥220.00 can still be refunded on this redemption."
    assert body["refundable"] == 22000


@pytest.mark.parametrize("sent", [29.9, "29.9", "2990", 2990.0, True])
def test_an_amount_in_yuan_or_as_text_is_refused_with_the_hint(api, world, sent):
    coupon = issue(api, world)
    body = assert_problem(redeem(api, world, coupon["payload"], sent), 422, "validation_failed")
    assert body["errors"]["order_amount"] == [f"Not an amount: amounts are {HINT}."]
    created = api.post("/api/v1/offers", world.maternity.key,
                       json=offer_body(discount={"type": "amount", "amount": sent}))
    assert HINT in assert_problem(created, 422)["errors"]["discount"]["amount"][0]


MONEY_FIELDS = {"amount", "max_amount", "min_spend", "budget", "budget_spent", "order_amount", "discount",
                "payable", "paid_amount", "refunded_amount", "refund_amount", "monthly_cap", "commission_clawback",
                "cofunding_returned", "clawed_back", "returned", "net", "net_position", "carried_in",
                "carried_forward", "min_transfer", "sales_amount", "adjustment_amount", "held"}


def test_every_amount_in_the_openapi_document_says_it_is_integer_fen(api):
    schemas = api.get("/openapi.json").get_json()["components"]["schemas"]
    found = []
    for name, schema in schemas.items():
        for field, prop in schema.get("properties", {}).items():
            if field in MONEY_FIELDS and prop.get("type") == "integer":
                found.append(f"{name}.{field}")
                assert HINT in prop.get("description", ""), f"{name}.{field}"
    assert len(found) > 30 and "Scan.order_amount" in found and "Redemption.paid_amount" in found


@pytest.mark.parametrize("typed", ["{0}—{1}　{2}", "{0}－{1}－{2}", "{0}——{1}——{2}", "{0} − {1} − {2}"])
def test_a_code_typed_with_a_chinese_input_method_is_found(api, world, typed):
    coupon = issue(api, world)
    groups = [g.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)}) for g in coupon["code"].split("-")]
    text = typed.format(*groups)  # full-width letters and digits, em dashes, ideographic spaces
    answer = api.post("/api/v1/redemptions/verify", world.maternity.terminal_key,
                      json={"payload": text, "order_amount": 25000}).get_json()
    assert answer["valid"] is True and answer["coupon_code"] == coupon["code"]
    looked_up = api.get(f"/api/v1/coupons/{text}", world.stroller.key)
    assert looked_up.status_code == 200 and looked_up.get_json()["code"] == coupon["code"]


def test_a_closed_months_minimum_transfer_is_named_in_yuan(month):
    at("2026-11-02T00:00:00+08:00")
    assert month.close("2026-10").status_code == 201
    body = assert_problem(month.close("2026-10", netting="multilateral"), 409, "period_closed")
    assert "a minimum transfer of ¥1.00 (100 minor units in any currency)" in body["detail"]
    assert (body["min_transfer"], body["netting"]) == (100, "bilateral")
