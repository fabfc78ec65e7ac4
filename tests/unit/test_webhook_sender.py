"""The delivery sender (exchange/webhooks/sender.py) against a real receiver on 127.0.0.1: it
goes to the address it is given and nowhere else, sends a pass's deliveries at once, and keeps
what came back short."""

from __future__ import annotations

import ipaddress
import time

import pytest

from exchange.webhooks import sender, ssrf
from tests.webhook_receiver import Receiver

LOOPBACK = ipaddress.ip_address("127.0.0.1")


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def client():
    c = sender.Client(timeout=2.0, parallel=8)
    yield c
    c.close()


def post(url: str, body: bytes = b"{}", address=LOOPBACK) -> sender.Request:
    return sender.Request(ssrf.parse(url, https_only=False), address, {"webhook-id": "evt_1"}, body)


def test_it_connects_to_the_address_given_with_the_urls_name_in_host_never_asking_dns(receiver, client):
    [answer] = client.post_all([post(f"http://hooks.invalid:{receiver.port}/in?x=1")])
    assert (answer.status_code, answer.excerpt, answer.error) == (200, "ok", None)
    [got] = receiver.received
    assert got.headers["host"] == f"hooks.invalid:{receiver.port}" and got.headers["webhook-id"] == "evt_1"
    assert got.headers["content-type"] == "application/json"
    assert got.headers["user-agent"] == sender.USER_AGENT


def test_proxies_named_in_the_environment_are_not_used(receiver, client, monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there
    [answer] = client.post_all([post(receiver.url)])
    assert answer.status_code == 200 and len(receiver.received) == 1


def test_a_large_body_goes_at_once_without_waiting_for_100_continue(receiver, client):
    body = b'{"data": "' + b"x" * 20_000 + b'"}'
    [answer] = client.post_all([post(receiver.url, body)])
    assert answer.status_code == 200 and answer.latency_ms < 900  # curl waits 1 s for a 100 Continue
    [got] = receiver.received
    assert got.body == body and "expect" not in got.headers


def test_a_long_answer_is_kept_as_a_short_printable_excerpt(receiver, client):
    receiver.answers = [(500, "错误\x00\n" + "y" * 50_000, 0)]
    [answer] = client.post_all([post(receiver.url)])
    assert answer.status_code == 500 and not answer.ok and answer.error is None
    assert len(answer.excerpt) == sender.EXCERPT and answer.excerpt.startswith("错误  yyy")


def test_a_pass_is_sent_at_once_not_one_delivery_after_another(receiver, client):
    receiver.answers = [(200, "ok", 0.5)] * 8
    started = time.monotonic()
    answers = client.post_all([post(receiver.url, f'{{"n": {n}}}'.encode()) for n in range(8)])
    assert [a.status_code for a in answers] == [200] * 8
    assert time.monotonic() - started < 2.0  # one after another: 4 s
    assert sorted(r.body for r in receiver.received) == sorted(f'{{"n": {n}}}'.encode() for n in range(8))


def test_answers_come_back_in_the_order_asked_whatever_order_they_arrive_in(receiver, client):
    with Receiver() as quick:
        receiver.answers = [(201, "slow", 0.4)]
        quick.answers = [(202, "quick", 0)]
        answers = client.post_all([post(receiver.url, b'{"first": 1}'), post(quick.url, b'{"second": 2}')])
    assert [(a.status_code, a.excerpt) for a in answers] == [(201, "slow"), (202, "quick")]
    assert answers[0].latency_ms >= 400 > answers[1].latency_ms


def test_nothing_listening_is_an_error_in_words_not_an_exception(client):
    [answer] = client.post_all([post("http://127.0.0.1:9/")])
    assert answer.status_code is None and not answer.ok and answer.error.startswith("curl error 7:")
