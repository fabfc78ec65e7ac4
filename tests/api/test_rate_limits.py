import pytest

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


def _limits(app, monkeypatch, per_key="off", per_address="off"):
    monkeypatch.setitem(app.config, "REDEMPTION_RATE_LIMIT", per_key)
    monkeypatch.setitem(app.config, "REDEMPTION_IP_RATE_LIMIT", per_address)
    limiter.reset()


def _verify(api, key, payload, **kw):
    return api.post("/api/v1/redemptions/verify", key, json={"payload": payload, "order_amount": 25000}, **kw)


def _redeem(api, key, payload, idem, **kw):
    return api.post("/api/v1/redemptions", key, json={"payload": payload, "order_amount": 25000},
                    headers={"Idempotency-Key": idem}, **kw)


@pytest.fixture
def coupons(api, world):
    return api.post(f"/api/v1/offers/{world.offer['id']}/coupons", world.stroller.key,
                    json={"count": 5}).get_json()["items"]


def test_verify_is_rate_limited_per_key(api, app, world, coupons, monkeypatch):
    _limits(app, monkeypatch, per_key="3 per minute")
    try:
        till, payload = world.maternity.terminal_key, coupons[0]["payload"]
        assert [_verify(api, till, payload).status_code for _ in range(3)] == [200, 200, 200]
        r = _verify(api, till, payload)
        assert_problem(r, 429, "rate_limited")
        assert int(r.headers["Retry-After"]) > 0
        # Another key (the owner's own merchant key) has a budget of its own.
        assert api.post("/api/v1/redemptions/verify", world.maternity.key, json={
            "payload": payload, "order_amount": 25000, "store_id": world.maternity.store_id}).status_code == 200
        # A wrong secret sent with the till's key id does not spend the till's budget, nor get in.
        forged = till[:-4] + "AAAA"
        assert_problem(_verify(api, forged, payload), 401)
    finally:
        limiter.reset()


def test_redeem_is_rate_limited_per_key_and_a_refusal_writes_nothing(api, app, world, coupons, monkeypatch,
                                                                     session):
    from sqlalchemy import func, select

    from exchange.models import Redemption

    _limits(app, monkeypatch, per_key="2 per minute")
    try:
        till = world.maternity.terminal_key
        assert _redeem(api, till, coupons[0]["payload"], "rl-1").status_code == 201
        assert _redeem(api, till, coupons[1]["payload"], "rl-2").status_code == 201
        r = _redeem(api, till, coupons[2]["payload"], "rl-3")
        assert_problem(r, 429, "rate_limited")
        assert int(r.headers["Retry-After"]) > 0
        assert session.scalar(select(func.count()).select_from(Redemption)) == 2
        # Listing redemptions is not a redemption: not limited.
        assert api.get("/api/v1/redemptions?role=owner", world.maternity.key).status_code == 200
    finally:
        limiter.reset()


def test_verify_and_redeem_are_rate_limited_per_address(api, app, world, coupons, monkeypatch):
    _limits(app, monkeypatch, per_address="2 per minute")
    try:
        till, payload = world.maternity.terminal_key, coupons[0]["payload"]
        assert [_verify(api, till, payload).status_code for _ in range(2)] == [200, 200]
        assert_problem(_verify(api, world.maternity.key, payload), 429, "rate_limited")  # another key, same address
        assert _verify(api, till, payload, environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
        redeemed = [_redeem(api, till, c["payload"], f"ip-{i}") for i, c in enumerate(coupons[:2])]
        assert [r.status_code for r in redeemed] == [201, 201]
        r = _redeem(api, till, coupons[2]["payload"], "ip-3")
        assert_problem(r, 429, "rate_limited")
        assert int(r.headers["Retry-After"]) > 0
    finally:
        limiter.reset()


def test_off_switches_a_limit_off(api, app, world, coupons, monkeypatch):
    _limits(app, monkeypatch, per_key="off", per_address="off")
    try:
        for _ in range(30):
            assert _verify(api, world.maternity.terminal_key, coupons[0]["payload"]).status_code == 200
    finally:
        limiter.reset()


def test_default_limits_leave_a_busy_till_alone():
    from config import load_config

    cfg = load_config({"EXCHANGE_ENV": "development"})
    per_key, per_address = cfg["REDEMPTION_RATE_LIMIT"], cfg["REDEMPTION_IP_RATE_LIMIT"]
    assert per_key == "300 per minute" and per_address == "1200 per minute"
    bench = load_config({"EXCHANGE_ENV": "development", "EXCHANGE_REDEMPTION_RATE_LIMIT": "off",
                         "EXCHANGE_REDEMPTION_IP_RATE_LIMIT": "off"})
    assert bench["REDEMPTION_RATE_LIMIT"] == bench["REDEMPTION_IP_RATE_LIMIT"] == "off"


def test_a_counted_redemption_asks_the_limit_store_only_for_its_hits_and_the_throttle(api, app, world, coupons,
                                                                                    monkeypatch):
    """With limits in Redis every store call is a round trip of every redemption: one hit per
    limit and one look at the address's failed authentications, and no window statistics
    for X-RateLimit-* headers (not sent)."""
    _limits(app, monkeypatch, per_key="100 per minute", per_address="100 per minute")
    storage = limiter.limiter.storage
    calls, depth = [], [0]

    def counted(name, original):
        def call(*args, **kwargs):  # the calls a request makes, not the store's calls to itself
            if not depth[0]:
                calls.append(name)
            depth[0] += 1
            try:
                return original(*args, **kwargs)
            finally:
                depth[0] -= 1
        return call

    for name in ("incr", "get", "get_expiry", "acquire_entry", "get_moving_window"):
        if hasattr(storage, name):
            monkeypatch.setattr(storage, name, counted(name, getattr(storage, name)))
    try:
        r = _redeem(api, world.maternity.terminal_key, coupons[0]["payload"], "store-calls")
        assert r.status_code == 201
        assert sorted(calls) == ["get", "incr", "incr"]
        assert not [name for name, _ in r.headers if name.lower().startswith("x-ratelimit")]
        assert "Retry-After" not in r.headers
    finally:
        limiter.reset()


def test_a_refusal_says_how_long_until_the_window_resets(api, app, world, coupons, monkeypatch):
    _limits(app, monkeypatch, per_key="1 per hour")
    try:
        till = world.maternity.terminal_key
        assert _redeem(api, till, coupons[0]["payload"], "reset-1").status_code == 201
        r = _redeem(api, till, coupons[1]["payload"], "reset-2")
        assert_problem(r, 429, "rate_limited")
        # The hour's window opened with the first redemption: the wait is what is left of it.
        assert 3500 < int(r.headers["Retry-After"]) <= 3600
    finally:
        limiter.reset()
