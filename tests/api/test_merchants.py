from sqlalchemy import select

from exchange.audit import AuditEvent
from exchange.merchants.models import ApiKey
from tests.helpers import assert_problem


def test_registration_returns_the_merchant_and_a_key_shown_once(api):
    r = api.post("/api/v1/merchants", json={"name": "贝贝童车馆", "categories": ["stroller"], "price_tier": 3,
                                            "scale": "small", "city": "杭州"})
    assert r.status_code == 201
    body = r.get_json()
    assert body["merchant"]["name"] == "贝贝童车馆"
    assert body["merchant"]["status"] == "active"
    key = body["api_key"]["key"]
    assert key.startswith(f"mk_{body['api_key']['id']}_")
    listed = api.get("/api/v1/merchants/me/api-keys", key).get_json()["items"]
    assert listed and all("key" not in item for item in listed)


def test_keys_are_stored_only_as_a_hash(api, session):
    actor = api.register(with_store=False)
    secret = actor.key.split("_", 2)[2]
    stored = session.scalars(select(ApiKey.secret_hash)).all()
    assert secret not in stored
    assert all(len(h) == 64 for h in stored)


def test_me_shows_own_profile_and_patch_changes_it(api, merchant):
    assert api.get("/api/v1/merchants/me", merchant.key).get_json()["id"] == merchant.id
    r = api.patch("/api/v1/merchants/me", merchant.key, json={"city": "上海", "price_tier": 4})
    assert r.status_code == 200
    assert r.get_json()["city"] == "上海"
    assert api.get("/api/v1/merchants/me", merchant.key).get_json()["price_tier"] == 4


def test_empty_patch_changes_nothing(api, merchant):
    before = api.get("/api/v1/merchants/me", merchant.key).get_json()
    r = api.patch("/api/v1/merchants/me", merchant.key, json={})
    assert r.status_code == 200 and r.get_json() == before


def test_blank_names_are_refused(api, merchant):
    body = assert_problem(api.patch("/api/v1/merchants/me", merchant.key, json={"name": "   "}), 422)
    assert body["errors"]["name"] == ["Must not be blank."]


def test_a_key_can_be_created_without_a_body(api, merchant):
    r = api.post("/api/v1/merchants/me/api-keys", merchant.key)
    assert r.status_code == 201 and r.get_json()["label"] is None


def test_revocation_answers_204_without_a_body(api, merchant):
    new = api.post("/api/v1/merchants/me/api-keys", merchant.key, json={}).get_json()
    r = api.delete(f"/api/v1/merchants/me/api-keys/{new['id']}", merchant.key)
    assert r.status_code == 204 and r.data == b"" and "Content-Type" not in r.headers


def test_status_cannot_be_mass_assigned(api, merchant):
    r = api.patch("/api/v1/merchants/me", merchant.key, json={"status": "suspended"})
    body = assert_problem(r, 422, "validation_failed")
    assert "status" in body["errors"]
    assert api.get("/api/v1/merchants/me", merchant.key).get_json()["status"] == "active"


def test_rotation_new_key_works_and_revoked_key_stops_working(api, merchant):
    new = api.post("/api/v1/merchants/me/api-keys", merchant.key, json={"label": "till 2"}).get_json()
    old_id = int(merchant.key.split("_")[1])
    assert api.delete(f"/api/v1/merchants/me/api-keys/{old_id}", new["key"]).status_code == 204
    assert_problem(api.get("/api/v1/merchants/me", merchant.key), 401, "invalid_key")
    assert api.get("/api/v1/merchants/me", new["key"]).status_code == 200


def test_last_active_key_cannot_be_revoked(api, merchant):
    key_id = int(merchant.key.split("_")[1])
    assert_problem(api.delete(f"/api/v1/merchants/me/api-keys/{key_id}", merchant.key), 409, "last_key")


def test_another_merchants_key_cannot_be_revoked(api, merchant, other_merchant):
    other_key_id = int(other_merchant.key.split("_")[1])
    api.post("/api/v1/merchants/me/api-keys", merchant.key, json={})
    assert_problem(api.delete(f"/api/v1/merchants/me/api-keys/{other_key_id}", merchant.key), 404)
    assert api.get("/api/v1/merchants/me", other_merchant.key).status_code == 200


def test_operator_can_suspend_and_reinstate(api, merchant, app):
    op = app.config["OPERATOR_KEY"]
    r = api.post(f"/api/v1/operator/merchants/{merchant.id}/suspend", op)
    assert r.status_code == 200 and r.get_json()["status"] == "suspended"
    assert_problem(api.get("/api/v1/merchants/me", merchant.key), 403, "merchant_suspended")
    api.post(f"/api/v1/operator/merchants/{merchant.id}/reinstate", op)
    assert api.get("/api/v1/merchants/me", merchant.key).status_code == 200


def test_merchants_cannot_use_operator_routes(api, merchant, other_merchant):
    assert_problem(api.post(f"/api/v1/operator/merchants/{other_merchant.id}/suspend", merchant.key),
                   403, "wrong_key_kind")


def test_state_changes_write_audit_events(api, merchant, session):
    api.patch("/api/v1/merchants/me", merchant.key, json={"name": "贝贝童车馆 新店"})
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.merchant_id == merchant.id)).all()
    assert {"merchant.registered", "store.created", "terminal_key.created", "merchant.updated"} <= set(actions)
