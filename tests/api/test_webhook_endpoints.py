"""Webhook endpoints (SPEC §9): CRUD, a secret shown once, rotation, a ping; bad input and
addresses no delivery may go to refused with problem+json."""

from __future__ import annotations

import pytest

from exchange.events.relay import relay
from tests.helpers import assert_problem

ENDPOINTS = "/api/v1/webhook-endpoints"
PUBLIC = "93.184.215.14"  # what the stubbed DNS answers for public names


@pytest.fixture
def dns(app, monkeypatch):
    """A stubbed resolver: `dns["name"] = [addresses]`; unknown names resolve to a public address."""
    answers: dict[str, list[str]] = {}

    def resolve(host, port):
        if host in answers and not answers[host]:
            raise OSError("NXDOMAIN")
        return answers.get(host, [PUBLIC])

    monkeypatch.setitem(app.config, "WEBHOOK_RESOLVER", resolve)
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", False)
    return answers


def create(api, actor, **body):
    return api.post(ENDPOINTS, actor.key, json={"url": "https://hooks.example.com/exchange",
                                                "event_types": ["coupon.redeemed"], **body})


def test_an_endpoint_is_created_with_a_secret_shown_once(api, world, dns):
    r = create(api, world.maternity, description="ERP", event_types=["coupon.redeemed", "redemption.reversed"])
    assert r.status_code == 201, r.get_json()
    made = r.get_json()
    assert made["secret"].startswith("whsec_") and len(made["secret"]) > 40
    assert made["event_types"] == ["coupon.redeemed", "redemption.reversed"]
    assert (made["enabled"], made["status"], made["description"]) == (True, "enabled", "ERP")
    shown = api.get(f"{ENDPOINTS}/{made['id']}", world.maternity.key).get_json()
    assert "secret" not in shown and shown == {k: v for k, v in made.items() if k != "secret"}
    listed = api.get(ENDPOINTS, world.maternity.key).get_json()["items"]
    assert listed == [shown] and "whsec_" not in str(listed)
    assert api.get(ENDPOINTS, world.stroller.key).get_json()["items"] == []


def test_an_endpoint_is_changed_and_deleted(api, world, dns):
    made = create(api, world.maternity).get_json()
    path = f"{ENDPOINTS}/{made['id']}"
    r = api.patch(path, world.maternity.key, json={"event_types": ["*"], "enabled": False, "description": None})
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["event_types"], r.get_json()["status"]) == (["*"], "disabled")
    r = api.patch(path, world.maternity.key, json={"url": "https://other.example.com/hook", "enabled": True})
    assert (r.get_json()["url"], r.get_json()["enabled"]) == ("https://other.example.com/hook", True)
    assert api.delete(path, world.maternity.key).status_code == 204
    assert_problem(api.get(path, world.maternity.key), 404)


@pytest.mark.parametrize("body,field", [
    ({"url": "not a url"}, "url"),
    ({"url": "ftp://hooks.example.com/x"}, "url"),
    ({"url": "https://hooks.example.com/" + "x" * 10_240}, "url"),
    ({"url": "javascript:alert(1)"}, "url"),
    ({"event_types": ["coupon.stolen"]}, "event_types"),
    ({"event_types": []}, "event_types"),
    ({"event_types": "coupon.redeemed"}, "event_types"),
    ({"enabled": "yes"}, "enabled"),
    ({"description": "x" * 201}, "description"),
    ({"secret": "whsec_mine"}, "secret"),
])
def test_bad_input_is_refused_with_problem_json(api, world, dns, body, field):
    problem = assert_problem(create(api, world.maternity, **body), 422)
    assert field in problem["errors"], problem


@pytest.mark.parametrize("url,answer,why", [
    ("http://127.0.0.1:8000/hook", None, "loopback"),
    ("http://localhost/hook", ["127.0.0.1", "::1"], "loopback"),
    ("http://[::1]/hook", None, "loopback"),
    ("http://10.0.0.7/hook", None, "private"),
    ("http://192.168.1.20/hook", None, "private"),
    ("http://intranet.example.com/hook", ["172.16.4.4"], "private"),
    ("http://169.254.169.254/latest/meta-data/", None, "metadata"),
    ("http://100.100.100.200/latest/meta-data/", None, "metadata"),
    ("http://metadata.example.com/", ["169.254.169.254"], "metadata"),
    ("http://[fe80::1]/hook", None, "link-local"),
    ("http://224.0.0.1/hook", None, "multicast"),
    ("http://0.0.0.0/hook", None, "unspecified"),
    ("http://mixed.example.com/hook", ["93.184.215.14", "10.1.1.1"], "private"),
    ("http://100.64.0.1/hook", None, "non-public"),
    ("http://nowhere.example.com/hook", [], "resolve"),
    ("https://user:pw@hooks.example.com/hook", None, "credentials"),
])
def test_unsafe_targets_are_refused_at_creation(api, world, dns, url, answer, why):
    if answer is not None:
        dns[url.split("//")[1].split("/")[0].split("@")[-1]] = answer
    problem = assert_problem(create(api, world.maternity, url=url), 422, "unsafe_webhook_url")
    assert why in problem["detail"] and "url" in problem["errors"], problem
    assert api.get(ENDPOINTS, world.maternity.key).get_json()["items"] == []


def test_a_change_to_an_unsafe_url_is_refused(api, world, dns):
    made = create(api, world.maternity).get_json()
    dns["evil.example.com"] = ["127.0.0.1"]
    assert_problem(api.patch(f"{ENDPOINTS}/{made['id']}", world.maternity.key,
                             json={"url": "https://evil.example.com/"}), 422, "unsafe_webhook_url")
    assert api.get(f"{ENDPOINTS}/{made['id']}", world.maternity.key).get_json()["url"] == made["url"]


def test_private_targets_only_when_configured_and_metadata_never(api, app, world, dns, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", True)
    assert create(api, world.maternity, url="http://127.0.0.1:9/hook").status_code == 201
    assert_problem(create(api, world.maternity, url="http://169.254.169.254/"), 422, "unsafe_webhook_url")


def test_production_wants_https(api, app, world, dns, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_HTTPS_ONLY", True)
    problem = assert_problem(create(api, world.maternity, url="http://hooks.example.com/x"), 422,
                             "unsafe_webhook_url")
    assert "https" in problem["detail"]
    assert create(api, world.maternity, url="https://hooks.example.com/x").status_code == 201


def test_rotation_shows_the_new_secret_once_and_keeps_the_old_one_signing_for_the_overlap(api, world, dns):
    made = create(api, world.maternity).get_json()
    r = api.post(f"{ENDPOINTS}/{made['id']}/rotate-secret", world.maternity.key, json={"overlap_seconds": 3600})
    assert r.status_code == 200, r.get_json()
    rotated = r.get_json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != made["secret"]
    assert rotated["previous_secret_expires_at"]
    assert_problem(api.post(f"{ENDPOINTS}/{made['id']}/rotate-secret", world.maternity.key,
                            json={"overlap_seconds": 8 * 86400}), 422)


def test_a_ping_is_an_event_for_that_endpoint_only(api, world, dns, session):
    from sqlalchemy import select

    from exchange.events.models import WebhookDelivery

    one = create(api, world.maternity, event_types=["*"]).get_json()
    other = create(api, world.maternity, event_types=["*"]).get_json()
    r = api.post(f"{ENDPOINTS}/{one['id']}/test", world.maternity.key)
    assert r.status_code == 202 and r.get_json()["event_id"].startswith("evt_")
    relay()
    deliveries = session.scalars(select(WebhookDelivery).where(
        WebhookDelivery.event_id == r.get_json()["event_id"])).all()
    assert [d.endpoint_id for d in deliveries] == [one["id"]] != [other["id"]]
    log = api.get(f"{ENDPOINTS}/{one['id']}/deliveries", world.maternity.key).get_json()["items"]
    assert [(d["event_type"], d["status"], d["attempts"]) for d in log] == [("webhook.test", "pending", 0)]


def test_endpoints_subscribe_to_their_types_and_their_merchants_events_only(api, world, dns, session):
    from sqlalchemy import select

    from exchange.events.models import Event, WebhookDelivery
    from tests.api.test_events import redeem

    reversals = create(api, world.maternity, event_types=["redemption.reversed"]).get_json()
    everything = create(api, world.maternity, event_types=["*"]).get_json()
    distributor = create(api, world.stroller, event_types=["coupon.redeemed"]).get_json()
    relay()
    redeem(api, world)
    relay()
    rows = session.execute(select(WebhookDelivery.endpoint_id, Event.merchant_id, Event.type)
                           .join(Event, Event.id == WebhookDelivery.event_id)).all()
    assert {(e, m, t) for e, m, t in rows} == {(everything["id"], world.maternity.id, "coupon.redeemed"),
                                               (distributor["id"], world.stroller.id, "coupon.redeemed")}
    assert reversals["id"] not in {e for e, _, _ in rows}
