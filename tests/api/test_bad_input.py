"""Every body-taking route against bad input: right status, problem+json, nothing written."""

import pytest
from sqlalchemy import func, select

from exchange.models import ApiKey, AuditEvent, Merchant, Store
from tests.helpers import assert_problem

LONG = "长" * 5000


def _counts(session):
    return tuple(session.scalar(select(func.count()).select_from(m))
                 for m in (Merchant, Store, ApiKey, AuditEvent))


def _routes(merchant):
    """(method, path, valid body, key) for every route that takes a body."""
    return [
        ("POST", "/api/v1/merchants",
         {"name": "乐乐玩具屋", "categories": ["toys"], "price_tier": 2, "scale": "small", "city": "杭州"}, None),
        ("PATCH", "/api/v1/merchants/me", {"name": "新名字", "price_tier": 2}, merchant.key),
        ("POST", "/api/v1/merchants/me/api-keys", {"label": "till"}, merchant.key),
        ("POST", "/api/v1/stores", {"name": "门店", "address": "路 1 号", "city": "杭州"}, merchant.key),
        ("POST", f"/api/v1/stores/{merchant.store_id}/terminal-keys", {"label": "till"}, merchant.key),
    ]


def _mutations(valid: dict):
    """Each bad variant of a valid body, with the status it must get."""
    yield "unknown field", {**valid, "merchant_id": 99}, 422
    for field, value in valid.items():
        yield f"{field}: wrong type (list)", {**valid, field: [value]}, 422
        yield f"{field}: wrong type (object)", {**valid, field: {"v": value}}, 422
        if isinstance(value, int):
            yield f"{field}: negative", {**valid, field: -1}, 422
            yield f"{field}: huge", {**valid, field: 10**30}, 422
            yield f"{field}: as string", {**valid, field: str(value)}, 422
            yield f"{field}: float", {**valid, field: value + 0.5}, 422
            yield f"{field}: boolean", {**valid, field: True}, 422
        else:
            yield f"{field}: over-long", {**valid, field: LONG}, 422
            yield f"{field}: control characters", {**valid, field: "a\x00b"}, 422
            yield f"{field}: number", {**valid, field: 12}, 422


def test_every_bad_body_is_refused_and_writes_nothing(api, merchant, session):
    before = _counts(session)
    tried = 0
    for method, path, valid, key in _routes(merchant):
        for what, body, status in _mutations(valid):
            r = api.call(method, path, key, json=body)
            assert r.status_code == status, (path, what, r.get_json())
            assert_problem(r, status)
            tried += 1
        required = [f for f in valid if method == "POST" and path.endswith(("/merchants", "/stores"))]
        for field in required:
            r = api.call(method, path, key, json={k: v for k, v in valid.items() if k != field})
            body = assert_problem(r, 422, "validation_failed")
            assert field in body["errors"], (path, field)
            tried += 1
        r = api.call(method, path, key, data=b"\xff\xfe\xfd", headers={"Content-Type": "application/json"})
        assert_problem(r, 400, "malformed_json")
        r = api.call(method, path, key, data=b"[1, 2]", headers={"Content-Type": "application/json"})
        assert_problem(r, 422)
    assert tried > 50
    assert _counts(session) == before


@pytest.mark.parametrize("bad_key", [None, "mk_999999_" + "a" * 43, "garbage", "tk_0_x"])
def test_authenticated_routes_refuse_missing_or_wrong_keys_and_write_nothing(api, merchant, session, bad_key):
    before = _counts(session)
    for method, path, valid, key in _routes(merchant):
        if key is None:
            continue
        assert_problem(api.call(method, path, bad_key, json=valid), 401)
    assert _counts(session) == before


def test_revoked_key_is_refused_everywhere(api, merchant, session):
    new = api.post("/api/v1/merchants/me/api-keys", merchant.key, json={}).get_json()["key"]
    api.delete(f"/api/v1/merchants/me/api-keys/{merchant.key.split('_')[1]}", new)
    before = _counts(session)
    for method, path, valid, key in _routes(merchant):
        if key is not None:
            assert_problem(api.call(method, path, merchant.key, json=valid), 401, "invalid_key")
    assert _counts(session) == before


@pytest.mark.parametrize("bad_id", ["999999999", "-1", "0", "2147483648", "9223372036854775808",
                                    "99999999999999999999", "%EF%BC%91", "%D9%A3", "1.0", "1e3"])
def test_ids_in_paths_that_name_nothing_are_404(api, merchant, bad_id):
    assert_problem(api.get(f"/api/v1/stores/{bad_id}", merchant.key), 404)
    assert_problem(api.delete(f"/api/v1/merchants/me/api-keys/{bad_id}", merchant.key), 404)
    assert_problem(api.post(f"/api/v1/stores/{bad_id}/terminal-keys", merchant.key, json={}), 404)


def test_huge_ids_in_bodies_are_refused(api, merchant):
    r = api.post("/api/v1/partnerships", merchant.key, json={
        "partner_id": 10**20, "commission": {"type": "percent", "rate_bps": 1}, "currency": "CNY"})
    assert_problem(r, 422, "validation_failed")
