from collections import Counter

from tests.helpers import assert_problem

SECTORS = {"mother_baby", "home_building", "food", "beauty", "education", "pets", "sports", "auto",
           "electronics", "services"}


def test_taxonomy_has_forty_bilingual_categories_in_every_sector(api):
    items = api.get("/api/v1/categories").get_json()["items"]
    assert len(items) >= 40
    assert {c["sector"] for c in items} == SECTORS
    assert all(c["name"]["zh-CN"] and c["name"]["en"] for c in items)
    assert min(Counter(c["sector"] for c in items).values()) >= 3


def test_relations_are_symmetric_and_never_both(api):
    items = {c["id"]: c for c in api.get("/api/v1/categories").get_json()["items"]}
    for cid, c in items.items():
        assert not set(c["complements"]) & set(c["competitors"]), cid
        for other in c["complements"]:
            assert cid in items[other]["complements"]
        for other in c["competitors"]:
            assert cid in items[other]["competitors"]
    assert "maternity" in items["stroller"]["complements"]
    assert "home_decoration" in items["hardware"]["complements"]


def test_registration_refuses_unknown_categories_and_names_them(api):
    r = api.post("/api/v1/merchants", json={"name": "x", "categories": ["stroller", "spaceships"],
                                            "price_tier": 3, "scale": "small", "city": "杭州"})
    body = assert_problem(r, 422, "validation_failed")
    assert body["errors"]["categories"] == ["Unknown category: spaceships"]


def test_a_merchant_lists_one_to_five_categories(api):
    base = {"name": "x", "price_tier": 3, "scale": "small", "city": "杭州"}
    assert_problem(api.post("/api/v1/merchants", json={**base, "categories": []}), 422)
    six = ["stroller", "toys", "tea", "gym", "laundry", "moving"]
    assert_problem(api.post("/api/v1/merchants", json={**base, "categories": six}), 422)


def test_categories_can_be_changed(api, merchant):
    r = api.patch("/api/v1/merchants/me", merchant.key, json={"categories": ["toys", "kids_clothing"]})
    assert r.status_code == 200 and r.get_json()["categories"] == ["kids_clothing", "toys"]
