"""Per-address rate limits count the client's address. Without a trusted proxy
(`EXCHANGE_PROXY_HOPS=0`, the default) it is the connection's and X-Forwarded-For is whatever
the client wrote, so it is ignored; behind one trusted proxy (`EXCHANGE_PROXY_HOPS=1`) it is the
address that proxy appended to X-Forwarded-For, never one the client put before it."""

import pytest

from exchange.extensions import limiter
from exchange.http.web import trust_proxies
from tests.helpers import assert_problem

BODY = {"name": "代理测试", "categories": ["tea"], "price_tier": 1, "scale": "micro", "city": "杭州"}
PROXY = {"REMOTE_ADDR": "10.0.0.1"}  # every request arrives from the proxy's (or one client's) socket


@pytest.fixture
def two_registrations_per_address(app, monkeypatch):
    monkeypatch.setitem(app.config, "REGISTRATION_RATE_LIMIT", "2 per minute")
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture
def behind_one_trusted_proxy(app, monkeypatch):
    """The app as `create_app` builds it with EXCHANGE_PROXY_HOPS=1 (restored afterwards)."""
    monkeypatch.setitem(app.config, "PROXY_HOPS", 1)
    monkeypatch.setattr(app, "wsgi_app", app.wsgi_app)
    trust_proxies(app)


def _register(api, forwarded_for):
    return api.post("/api/v1/merchants", json=BODY, headers={"X-Forwarded-For": forwarded_for},
                    environ_base=PROXY)


def test_proxy_hops_are_off_by_default():
    from config import load_config

    assert load_config({})["PROXY_HOPS"] == 0


def test_without_a_trusted_proxy_a_spoofed_x_forwarded_for_is_ignored(api, app, two_registrations_per_address):
    assert app.config["PROXY_HOPS"] == 0
    assert [_register(api, f"203.0.113.{i}").status_code for i in (1, 2)] == [201, 201]
    # A new "address" each time changes nothing: all three come from 10.0.0.1.
    assert_problem(_register(api, "203.0.113.3"), 429, "rate_limited")
    assert _register(api, "203.0.113.4").status_code == 429


def test_behind_a_trusted_proxy_the_address_it_appended_counts(api, two_registrations_per_address,
                                                              behind_one_trusted_proxy):
    assert [_register(api, "203.0.113.1").status_code for _ in range(2)] == [201, 201]
    assert_problem(_register(api, "203.0.113.1"), 429, "rate_limited")
    # Another client behind the same proxy has its own count.
    assert _register(api, "203.0.113.2").status_code == 201
    # A client that writes an address of its own before the proxy's entry is still itself.
    assert _register(api, "198.51.100.9, 203.0.113.1").status_code == 429


def test_behind_a_trusted_proxy_failed_authentications_are_counted_per_client(api, app, monkeypatch,
                                                                              behind_one_trusted_proxy):
    monkeypatch.setitem(app.config, "AUTH_FAILURE_RATE_LIMIT", "3 per minute")
    limiter.reset()
    try:
        def me(client):
            return api.get("/api/v1/merchants/me", f"mk_1_{'x' * 43}", headers={"X-Forwarded-For": client},
                           environ_base=PROXY).status_code

        assert [me("203.0.113.7") for _ in range(4)] == [401, 401, 401, 429]
        # The guesser is throttled; a till elsewhere behind the same proxy is not.
        assert me("203.0.113.8") == 401
    finally:
        limiter.reset()
