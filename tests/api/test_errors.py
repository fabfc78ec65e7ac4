"""Every 4xx/5xx is application/problem+json (SPEC §4.7)."""

import pytest

from tests.helpers import assert_problem


def test_unknown_route_is_a_problem(api):
    assert_problem(api.get("/api/v1/nothing-here"), 404, "not_found")


def test_wrong_method_is_a_problem_with_allow(api):
    r = api.call("DELETE", "/api/v1/merchants")
    assert_problem(r, 405, "method_not_allowed")
    assert "POST" in r.headers["Allow"]


def test_malformed_json_is_a_problem(api):
    r = api.call("POST", "/api/v1/merchants", data=b'{"name": ',
                 headers={"Content-Type": "application/json"})
    assert_problem(r, 400, "malformed_json")


def test_non_utf8_body_is_a_problem(api):
    r = api.call("POST", "/api/v1/merchants", data=b'{"name": "\xff\xfe"}',
                 headers={"Content-Type": "application/json"})
    assert_problem(r, 400, "malformed_json")


def test_wrong_content_type_is_a_problem(api):
    r = api.call("POST", "/api/v1/merchants", data="name=x",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_problem(r, 415, "unsupported_media_type")


def test_body_over_one_mebibyte_is_refused(api):
    body = b'{"name": "' + b"x" * (1024 * 1024) + b'"}'
    r = api.call("POST", "/api/v1/merchants", data=body, headers={"Content-Type": "application/json"})
    assert_problem(r, 413, "payload_too_large")


def test_validation_errors_list_the_fields(api):
    r = api.post("/api/v1/merchants", json={"name": "", "price_tier": 9, "scale": "huge"})
    body = assert_problem(r, 422, "validation_failed")
    assert set(body["errors"]) == {"name", "categories", "price_tier", "scale", "city"}


def test_missing_key_is_401_and_wrong_kind_is_403(api, merchant):
    assert_problem(api.get("/api/v1/merchants/me"), 401, "missing_key")
    assert_problem(api.get("/api/v1/merchants/me", "mk_1_" + "x" * 43), 401, "invalid_key")
    assert_problem(api.get("/api/v1/merchants/me", "not-a-key"), 401, "invalid_key")
    r = api.get("/api/v1/merchants/me", headers={"Authorization": f"Basic {merchant.key}"})
    assert_problem(r, 401, "invalid_key")
    assert_problem(api.get("/api/v1/merchants/me", merchant.terminal_key), 403, "wrong_key_kind")


def test_401_says_how_to_authenticate(api):
    r = api.get("/api/v1/merchants/me")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_bearer_scheme_is_case_insensitive(api, merchant):
    r = api.get("/api/v1/merchants/me", headers={"Authorization": f"bearer {merchant.key}"})
    assert r.status_code == 200


def test_retry_after_is_sent_only_with_429(api):
    r = api.post("/api/v1/merchants", json={})
    assert r.status_code == 422 and "Retry-After" not in r.headers


def test_a_key_with_a_valid_id_but_another_prefix_is_refused(api, merchant):
    forged = "tk_" + merchant.key[3:]
    assert_problem(api.get("/api/v1/stores", forged), 401, "invalid_key")


def test_unexpected_exception_is_500_without_leaking(api, merchant, monkeypatch):
    from exchange.merchants import services

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals: /srv/exchange db password hunter2")

    monkeypatch.setattr(services, "list_stores", explode)
    r = api.get("/api/v1/stores", merchant.key)
    body = assert_problem(r, 500, "internal_error")
    text = r.get_data(as_text=True)
    assert "hunter2" not in text and "Traceback" not in text and "RuntimeError" not in text
    assert body["detail"]


def test_healthz_reports_the_database(api):
    r = api.get("/healthz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok", "database": "writable", "rate_limits": "per_process"}


@pytest.mark.parametrize("body", ["[" * 3000 + "]" * 3000, '{"payload": ' + "[" * 5000 + "]" * 5000 + "}",
                                  "[" * 100000])
def test_json_nested_thousands_deep_is_malformed_not_a_server_error(api, world, body):
    for path, key in (("/api/v1/merchants", None), ("/api/v1/redemptions/verify", world.maternity.terminal_key)):
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        r = api.client.post(path, data=body, headers=headers)
        assert_problem(r, 400, "malformed_json")
