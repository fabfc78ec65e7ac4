"""Deliveries per the Standard Webhooks specification (SPEC §9), to a real receiver on
127.0.0.1 that verifies every signature with the standardwebhooks library: at least once, one
webhook-id for every attempt, backoff driven by the sandbox clock, leases, SSRF at delivery."""

from __future__ import annotations

import json
import os
import ssl
from datetime import timedelta

import pytest
import trustme
from standardwebhooks import WebhookVerificationError

from exchange import clock
from exchange.events.relay import relay
from exchange.webhooks import attempts, backoff
from exchange.webhooks.worker import work_once
from tests.api.test_events import feed, redeem
from tests.helpers import assert_problem
from tests.webhook_receiver import Receiver

ENDPOINTS = "/api/v1/webhook-endpoints"


@pytest.fixture
def receiver(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", True)  # the receiver is on loopback
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT_SECONDS", 2.0)
    with Receiver() as r:
        yield r


@pytest.fixture
def sandbox():
    clock.set_now(clock.now())
    return clock


def subscribe(api, actor, receiver, types=("coupon.redeemed",)) -> dict:
    r = api.post(ENDPOINTS, actor.key, json={"url": receiver.url, "event_types": list(types)})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def deliveries(api, actor, endpoint) -> list[dict]:
    return api.get(f"{ENDPOINTS}/{endpoint['id']}/deliveries", actor.key).get_json()["items"]


def test_a_redemption_reaches_both_sides_receivers_signed_and_in_their_own_views(api, world, receiver):
    owner = subscribe(api, world.maternity, receiver)
    distributor = subscribe(api, world.stroller, receiver)
    redemption = redeem(api, world, order_ref="POS-88")
    assert receiver.received == []  # the redemption did not wait for (or make) any delivery
    assert work_once("worker-a").done >= 2
    got = {r.verified(owner["secret"])["merchant_id"] if _verifies(r, owner) else
           r.verified(distributor["secret"])["merchant_id"]: r for r in receiver.wait_for(2, 5)}
    assert set(got) == {world.maternity.id, world.stroller.id}
    mine, theirs = got[world.maternity.id], got[world.stroller.id]
    payload = mine.verified(owner["secret"])
    assert payload["type"] == "coupon.redeemed" and payload["data"] == redemption
    assert payload == [e for e in feed(api, world.maternity) if e["type"] == "coupon.redeemed"][0]
    assert mine.webhook_id == payload["id"] and mine.headers["content-type"] == "application/json"
    assert "POS-88" not in theirs.body.decode() and "order_ref" not in theirs.verified(distributor["secret"])["data"]
    with pytest.raises(WebhookVerificationError):  # one merchant's secret never signs another's events
        theirs.verified(owner["secret"])
    [log] = deliveries(api, world.maternity, owner)
    assert (log["status"], log["attempts"], log["last_status_code"], log["last_excerpt"]) == ("succeeded", 1, 200, "ok")
    assert log["event_id"] == payload["id"] and log["last_latency_ms"] >= 0 and log["delivered_at"]


def _verifies(received, endpoint) -> bool:
    try:
        received.verified(endpoint["secret"])
        return True
    except WebhookVerificationError:
        return False


def test_failing_twice_then_succeeding_is_three_attempts_with_one_webhook_id(api, world, receiver, sandbox):
    endpoint = subscribe(api, world.maternity, receiver)
    receiver.answers = [(500, "boom", 0), (503, "busy", 0)]
    redeem(api, world)
    assert work_once("worker-a").done >= 1
    [first] = deliveries(api, world.maternity, endpoint)
    assert (first["status"], first["attempts"], first["last_status_code"], first["last_excerpt"]) == \
        ("pending", 1, 500, "boom")
    assert attempts.deliver_due("worker-a") == 0  # not due yet: backoff
    sandbox.advance(timedelta(seconds=7))
    assert attempts.deliver_due("worker-a") == 1
    assert deliveries(api, world.maternity, endpoint)[0]["last_status_code"] == 503
    sandbox.advance(timedelta(seconds=15))
    assert attempts.deliver_due("worker-a") == 0  # 20 s ± 20 % after the second failure
    sandbox.advance(timedelta(seconds=10))
    assert attempts.deliver_due("worker-a") == 1
    got = receiver.wait_for(3, 5)
    assert len(got) == 3 and len({r.webhook_id for r in got}) == 1
    assert all(r.verified(endpoint["secret"])["id"] == got[0].webhook_id for r in got)
    [log] = deliveries(api, world.maternity, endpoint)
    assert (log["status"], log["attempts"], log["last_status_code"]) == ("succeeded", 3, 200)
    assert api.get(f"{ENDPOINTS}/{endpoint['id']}", world.maternity.key).get_json()["failing_since"] is None


def test_a_rotation_sends_both_signatures_for_its_overlap_then_only_the_new_one(api, world, receiver, sandbox):
    endpoint = subscribe(api, world.maternity, receiver, types=["*"])
    old = endpoint["secret"]
    new = api.post(f"{ENDPOINTS}/{endpoint['id']}/rotate-secret", world.maternity.key,
                   json={"overlap_seconds": 3600}).get_json()["secret"]
    api.post(f"{ENDPOINTS}/{endpoint['id']}/test", world.maternity.key)
    work_once("worker-a")
    [during] = receiver.wait_for(1, 5)
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert during.verified(old)["type"] == during.verified(new)["type"] == "webhook.test"
    sandbox.advance(timedelta(hours=1, seconds=1))
    api.post(f"{ENDPOINTS}/{endpoint['id']}/test", world.maternity.key)
    work_once("worker-a")
    after = receiver.wait_for(2, 5)[1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1 and after.verified(new)
    with pytest.raises(WebhookVerificationError):
        after.verified(old)


def test_a_name_that_resolves_private_at_delivery_time_is_not_called(api, app, world, receiver, monkeypatch):
    """DNS rebinding: public when the endpoint was saved, loopback when the delivery goes."""
    answers = {"hooks.example.com": ["93.184.215.14"]}
    monkeypatch.setitem(app.config, "WEBHOOK_RESOLVER", lambda host, port: answers[host])
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", False)
    port = receiver.url.split(":")[2].split("/")[0]
    r = api.post(ENDPOINTS, world.maternity.key, json={"url": f"http://hooks.example.com:{port}/hooks/exchange",
                                                       "event_types": ["*"]})
    assert r.status_code == 201, r.get_json()
    endpoint = r.get_json()
    answers["hooks.example.com"] = ["127.0.0.1"]
    api.post(f"{ENDPOINTS}/{endpoint['id']}/test", world.maternity.key)
    work_once("worker-a")
    [log] = deliveries(api, world.maternity, endpoint)
    assert log["status"] == "pending" and log["last_status_code"] is None
    assert "refused" in log["last_error"] and "loopback" in log["last_error"]
    assert receiver.received == []


def test_a_redirect_is_not_followed_and_a_slow_receiver_times_out(api, app, world, receiver, monkeypatch):
    endpoint = subscribe(api, world.maternity, receiver, types=["*"])
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT_SECONDS", 0.3)
    receiver.answers = [(302, "", 0), (200, "late", 0.8)]
    api.post(f"{ENDPOINTS}/{endpoint['id']}/test", world.maternity.key)
    api.post(f"{ENDPOINTS}/{endpoint['id']}/test", world.maternity.key)
    work_once("worker-a")
    logs = deliveries(api, world.maternity, endpoint)
    assert {(d["last_status_code"], d["last_error"]) for d in logs if d["status"] == "pending"} == \
        {(302, None), (None, "timed out")}
    assert len(receiver.wait_for(2, 5)) == 2  # the redirect's target was never asked


def test_a_delivery_gives_up_after_three_days_and_a_redelivery_keeps_its_webhook_id(api, world, receiver, sandbox):
    endpoint = subscribe(api, world.maternity, receiver, types=["*"])
    receiver.answers = [(500, "down", 0)] * 40
    api.post(f"{ENDPOINTS}/{endpoint['id']}/test", world.maternity.key)
    relay()
    tries = 0
    started = clock.now()
    while (log := deliveries(api, world.maternity, endpoint)[0])["status"] == "pending" and tries < 40:
        sandbox.set_now(max(clock.now(), clock.parse_instant(log["next_attempt_at"])) + timedelta(seconds=1))
        work_once("worker-a")
        tries += 1
    assert timedelta(days=2) < clock.now() - started < backoff.RETRY_WINDOW + timedelta(hours=1)
    [log] = deliveries(api, world.maternity, endpoint)
    # 5 s, 20 s, 80 s, 5 min, 21 min, 85 min, 5.7 h, then every 10 h (± 20 %) for 3 days
    assert log["status"] == "failed" and 10 <= log["attempts"] <= 16 and log["next_attempt_at"] is None
    assert len(receiver.received) == log["attempts"]
    receiver.answers = []
    r = api.post(f"{ENDPOINTS}/{endpoint['id']}/deliveries/{log['id']}/redeliver", world.maternity.key)
    assert r.status_code == 202 and r.get_json()["status"] == "pending"
    work_once("worker-a")
    assert deliveries(api, world.maternity, endpoint)[0]["status"] == "succeeded"
    assert len({r.webhook_id for r in receiver.wait_for(log["attempts"] + 1, 5)}) == 1
    assert_problem(api.post(f"{ENDPOINTS}/{endpoint['id']}/deliveries/999999/redeliver", world.maternity.key), 404)


def test_an_endpoint_failing_for_days_is_disabled_and_its_merchant_told(api, world, receiver, sandbox):
    failing = subscribe(api, world.maternity, receiver, types=["*"])
    receiver.answers = [(500, "down", 0)] * 100
    started = clock.now()
    while clock.now() - started < backoff.DISABLE_AFTER + timedelta(hours=12):
        api.post(f"{ENDPOINTS}/{failing['id']}/test", world.maternity.key)
        work_once("worker-a")
        sandbox.advance(timedelta(hours=11))
    shown = api.get(f"{ENDPOINTS}/{failing['id']}", world.maternity.key).get_json()
    assert (shown["enabled"], shown["status"]) == (False, "disabled") and "failed" in shown["disabled_reason"]
    [told] = [e for e in feed(api, world.maternity) if e["type"] == "webhook_endpoint.disabled"]
    assert told["data"]["id"] == failing["id"] and told["data"]["status"] == "disabled"
    sent = len(receiver.received)
    redeem(api, world)
    work_once("worker-a")
    assert len(receiver.received) == sent  # a disabled endpoint is sent nothing new
    r = api.patch(f"{ENDPOINTS}/{failing['id']}", world.maternity.key, json={"enabled": True})
    assert r.get_json()["failing_since"] is None and r.get_json()["disabled_reason"] is None


def test_a_lease_keeps_a_second_worker_off_an_attempt_until_it_lapses(api, app, world, receiver, sandbox):
    endpoint = subscribe(api, world.maternity, receiver, types=["*"])
    api.post(f"{ENDPOINTS}/{endpoint['id']}/test", world.maternity.key)
    relay()
    [job] = attempts.claim("worker-a", 10)
    assert attempts.claim("worker-b", 10) == []  # held by worker-a
    sandbox.advance(timedelta(seconds=app.config["WEBHOOK_LEASE_SECONDS"] + 1))
    [again] = attempts.claim("worker-b", 10)  # worker-a died (say): its lease lapsed
    assert (again.delivery_id, again.event_id, again.attempt) == (job.delivery_id, job.event_id, job.attempt + 1)
    late = attempts.attempt(attempts.sender.Client(2, 1), job, lambda h, p: [], True, False)
    attempts.record("worker-a", job, late)  # worker-a's late answer no longer counts
    assert deliveries(api, world.maternity, endpoint)[0]["status"] == "pending"
    answer = attempts.attempt(attempts.sender.Client(2, 1), again, lambda h, p: [], True, False)
    attempts.record("worker-b", again, answer)
    [log] = deliveries(api, world.maternity, endpoint)
    assert (log["status"], log["attempts"]) == ("succeeded", 2)
    assert {r.webhook_id for r in receiver.wait_for(2, 5)} == {job.event_id}


def test_a_workers_pass_takes_the_first_attempts_it_queues_and_leaves_the_rest_due(api, app, world, receiver,
                                                                                  sandbox):
    endpoint = subscribe(api, world.maternity, receiver, types=["*"])
    for _ in range(3):
        api.post(f"{ENDPOINTS}/{endpoint['id']}/test", world.maternity.key)
    relayed, jobs = attempts.take("worker-a", 2)
    assert relayed >= 3 and [job.attempt for job in jobs] == [1, 1]
    assert all(d["attempts"] == 1 for d in deliveries(api, world.maternity, endpoint) if d["event_id"] in
               {job.event_id for job in jobs})
    [rest] = attempts.claim("worker-b", 10)  # the one not taken was queued due; the two are in flight
    assert rest.event_id not in {job.event_id for job in jobs} and rest.attempt == 1
    sandbox.advance(timedelta(seconds=app.config["WEBHOOK_LEASE_SECONDS"] + 1))
    # worker-a died mid-pass (say): what it took falls due again, the same webhook-ids, attempt 2
    again = attempts.claim("worker-b", 10)
    assert sorted((j.event_id, j.attempt) for j in again) == sorted((j.event_id, 2) for j in jobs + [rest])
    attempts.record_all("worker-b", list(zip(again, attempts.attempt_all(
        attempts.sender.Client(2, 8), again, lambda h, p: ["127.0.0.1"], True, False), strict=True)))
    assert {d["status"] for d in deliveries(api, world.maternity, endpoint)} == {"succeeded"}
    assert len(receiver.wait_for(3, 5)) == 3


def test_a_pass_that_took_all_it_may_says_so_and_the_pass_that_finishes_does_not(api, world, receiver):
    relay()  # the world's own events
    endpoint = subscribe(api, world.maternity, receiver, types=["*"])
    for _ in range(3):
        api.post(f"{ENDPOINTS}/{endpoint['id']}/test", world.maternity.key)
    first = work_once("worker-a", limit=2)
    assert (first.relayed, first.attempted, first.full) == (3, 2, True)  # one more is waiting
    last = work_once("worker-a", limit=2)
    assert (last.relayed, last.attempted, last.full) == (0, 1, False)
    assert len(receiver.wait_for(3, 5)) == 3 and not work_once("worker-a", limit=2).done


def test_the_worker_knows_how_long_the_oldest_delivery_due_has_waited(api, world, receiver, sandbox):
    relay()  # the world's own events
    assert attempts.waited_seconds() == 0.0
    endpoint = subscribe(api, world.maternity, receiver, types=["*"])
    api.post(f"{ENDPOINTS}/{endpoint['id']}/test", world.maternity.key)
    sandbox.advance(timedelta(seconds=40))
    assert attempts.waited_seconds() == pytest.approx(40, abs=1)  # not relayed yet
    relay()
    sandbox.advance(timedelta(seconds=5))
    assert attempts.waited_seconds() == pytest.approx(5, abs=1)  # queued when relayed, due since
    work_once("worker-a")
    assert attempts.waited_seconds() == 0.0


def test_the_delivered_body_is_the_feed_item_byte_for_byte_as_signed(api, world, receiver):
    endpoint = subscribe(api, world.maternity, receiver, types=["*"])
    ping = api.post(f"{ENDPOINTS}/{endpoint['id']}/test", world.maternity.key).get_json()
    work_once("worker-a")
    [got] = receiver.wait_for(1, 5)
    assert json.loads(got.body) == [e for e in feed(api, world.maternity) if e["id"] == ping["event_id"]][0]
    assert got.verified(endpoint["secret"])["data"]["endpoint_id"] == endpoint["id"]


def test_flask_exchange_deliver_once_relays_and_delivers_in_its_own_process_loop(api, app, world, receiver):
    endpoint = subscribe(api, world.maternity, receiver)
    redeem(api, world)
    result = app.test_cli_runner().invoke(args=["exchange", "deliver", "--once"])
    assert result.exit_code == 0, result.output
    assert "deliveries attempted" in result.output
    [got] = receiver.wait_for(1, 5)
    assert got.verified(endpoint["secret"])["type"] == "coupon.redeemed"
    assert deliveries(api, world.maternity, endpoint)[0]["status"] == "succeeded"


def test_the_readme_receiver_verifies_a_coupon_redeemed_delivery(api, app, world, monkeypatch):
    """The walk-through's step: subscribe scripts/webhook_receiver.py, redeem, see it verified."""
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    endpoint = api.post(ENDPOINTS, world.maternity.key, json={
        "url": f"http://127.0.0.1:{port}/", "event_types": ["coupon.redeemed"]}).get_json()
    script = Path(__file__).resolve().parents[2] / "scripts" / "webhook_receiver.py"
    proc = subprocess.Popen([sys.executable, str(script), "--port", str(port)], stdout=subprocess.PIPE, text=True,
                            env={"WEBHOOK_SECRET": endpoint["secret"], "PATH": "/usr/bin:/bin"})
    try:
        assert proc.stdout.readline().startswith("listening")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        redemption = redeem(api, world, order_ref="POS-1001")
        work_once("worker-a")
        line = proc.stdout.readline()
        assert line.startswith("verified coupon.redeemed evt_") and '"order_ref": "POS-1001"' in line, line
        assert f'"id": {redemption["id"]}' in line
        assert deliveries(api, world.maternity, endpoint)[0]["last_status_code"] == 204
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture
def https_receiver(app, monkeypatch, tmp_path):
    """An https receiver on loopback whose certificate names hooks.example.com (a test CA's),
    the name resolving to 127.0.0.1, and a worker that trusts that CA."""
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("hooks.example.com").configure_cert(server)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", True)
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT_SECONDS", 2.0)
    monkeypatch.setitem(app.config, "WEBHOOK_RESOLVER", lambda host, port: ["127.0.0.1"])
    sending = attempts.Sending(2.0, ca_file=str(ca_file))
    monkeypatch.setitem(attempts._sending, os.getpid(), sending)
    with Receiver(tls=server) as r:
        yield r
    sending.close()


def test_https_goes_to_the_checked_address_with_the_urls_name_in_sni_host_and_certificate_check(
        api, world, https_receiver):
    good = api.post(ENDPOINTS, world.maternity.key, json={
        "url": f"https://hooks.example.com:{https_receiver.port}/hooks/exchange", "event_types": ["*"]}).get_json()
    # Another name for the same address: its certificate does not name it, so nothing is sent.
    wrong = api.post(ENDPOINTS, world.maternity.key, json={
        "url": f"https://elsewhere.example.com:{https_receiver.port}/hooks/exchange", "event_types": ["*"]}).get_json()
    for endpoint in (good, wrong):
        api.post(f"{ENDPOINTS}/{endpoint['id']}/test", world.maternity.key)
    work_once("worker-a")

    [got] = https_receiver.wait_for(1, 5)
    assert got.headers["host"] == f"hooks.example.com:{https_receiver.port}"
    assert got.verified(good["secret"])["type"] == "webhook.test"
    assert "hooks.example.com" in https_receiver.server_names
    [delivered] = deliveries(api, world.maternity, good)
    assert (delivered["status"], delivered["last_status_code"]) == ("succeeded", 200)
    [refused] = deliveries(api, world.maternity, wrong)
    assert refused["status"] == "pending" and refused["last_status_code"] is None
    assert "SSL" in refused["last_error"] and "elsewhere.example.com" in refused["last_error"]
