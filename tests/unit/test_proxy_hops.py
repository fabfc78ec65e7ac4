"""Behind a trusted proxy the client's address comes from X-Forwarded-For, so per-address
limits (failed authentications above all) count clients, not the load balancer."""

from flask import Flask

from exchange.http.ratelimits import client_address
from exchange.http.web import trust_proxies


def _app(hops: int) -> Flask:
    app = Flask(__name__)
    app.config["PROXY_HOPS"] = hops
    trust_proxies(app)
    app.add_url_rule("/who", "who", client_address)
    return app


def test_without_trusted_proxies_the_socket_address_counts():
    r = _app(0).test_client().get("/who", headers={"X-Forwarded-For": "203.0.113.9"},
                                  environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert r.get_data(as_text=True) == "ip:10.0.0.1"


def test_one_trusted_proxy_gives_the_client_it_saw():
    r = _app(1).test_client().get("/who", headers={"X-Forwarded-For": "198.51.100.7, 203.0.113.9"},
                                  environ_base={"REMOTE_ADDR": "10.0.0.1"})
    # Only the hop the proxy appended is trusted: a client cannot pick its own address.
    assert r.get_data(as_text=True) == "ip:203.0.113.9"
