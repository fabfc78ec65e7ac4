from exchange.extensions import limiter
from tests.helpers import assert_problem


def test_registration_is_rate_limited_per_address(api, app, monkeypatch):
    monkeypatch.setitem(app.config, "REGISTRATION_RATE_LIMIT", "3 per minute")
    limiter.reset()
    body = {"name": "限流测试", "categories": ["tea"], "price_tier": 1, "scale": "micro", "city": "杭州"}
    try:
        statuses = [api.post("/api/v1/merchants", json=body).status_code for _ in range(3)]
        assert statuses == [201, 201, 201]
        r = api.post("/api/v1/merchants", json=body)
        assert_problem(r, 429, "rate_limited")
        assert int(r.headers["Retry-After"]) > 0
        other = api.post("/api/v1/merchants", json=body, environ_base={"REMOTE_ADDR": "10.9.9.9"})
        assert other.status_code == 201
    finally:
        limiter.reset()
