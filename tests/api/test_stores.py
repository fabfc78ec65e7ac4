from tests.helpers import assert_problem


def test_stores_are_created_and_listed(api, merchant):
    r = api.post("/api/v1/stores", merchant.key,
                 json={"name": "贝贝童车馆 学院路店", "address": "学院路 9 号", "city": "杭州"})
    assert r.status_code == 201
    names = [s["name"] for s in api.get("/api/v1/stores", merchant.key).get_json()["items"]]
    assert "贝贝童车馆 学院路店" in names


def test_a_merchant_never_sees_another_merchants_store(api, merchant, other_merchant):
    assert_problem(api.get(f"/api/v1/stores/{other_merchant.store_id}", merchant.key), 404, "not_found")
    listed = api.get("/api/v1/stores", merchant.key).get_json()["items"]
    assert {s["id"] for s in listed} == {merchant.store_id}


def test_terminal_key_for_another_merchants_store_is_refused(api, merchant, other_merchant):
    r = api.post(f"/api/v1/stores/{other_merchant.store_id}/terminal-keys", merchant.key, json={})
    assert_problem(r, 404)


def test_terminal_keys_cannot_administer_the_merchant(api, merchant):
    for method, path in [("GET", "/api/v1/merchants/me"), ("GET", "/api/v1/stores"),
                         ("POST", "/api/v1/merchants/me/api-keys"),
                         ("POST", f"/api/v1/stores/{merchant.store_id}/terminal-keys")]:
        r = api.call(method, path, merchant.terminal_key, json={} if method == "POST" else None)
        assert_problem(r, 403, "wrong_key_kind")


def test_revoked_terminal_key_is_refused(api, merchant):
    keys = api.get(f"/api/v1/stores/{merchant.store_id}/terminal-keys", merchant.key).get_json()["items"]
    assert len(keys) == 1 and keys[0]["kind"] == "terminal"
    api.delete(f"/api/v1/stores/{merchant.store_id}/terminal-keys/{keys[0]['id']}", merchant.key)
    assert_problem(api.get("/api/v1/stores", merchant.terminal_key), 401, "invalid_key")


def test_terminal_key_format(merchant):
    assert merchant.terminal_key.startswith("tk_")
