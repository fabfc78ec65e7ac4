"""Fixtures and helpers that speak the API the way a merchant's script would."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import uuid
from dataclasses import dataclass
from datetime import datetime

import pytest

from exchange import clock

_counter = itertools.count(1)


@dataclass
class Actor:
    """A registered merchant as a test sees it: ids and plaintext keys."""

    id: int
    key: str
    name: str
    store_id: int | None = None
    terminal_key: str | None = None


class ApiClient:
    def __init__(self, client):
        self.client = client

    def call(self, method: str, path: str, key: str | None = None, json=None, headers=None, **kw):
        headers = dict(headers or {})
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return self.client.open(path, method=method, json=json, headers=headers, **kw)

    def get(self, path, key=None, **kw):
        return self.call("GET", path, key, **kw)

    def post(self, path, key=None, json=None, **kw):
        return self.call("POST", path, key, json=json, **kw)

    def patch(self, path, key=None, json=None, **kw):
        return self.call("PATCH", path, key, json=json, **kw)

    def delete(self, path, key=None, **kw):
        return self.call("DELETE", path, key, **kw)

    def register(self, name: str | None = None, *, categories=("bookstore",), price_tier=3,
                 scale="small", city="杭州", with_store: bool = True, **extra) -> Actor:
        name = name or f"测试商户 {next(_counter)}"
        body = {"name": name, "categories": list(categories), "price_tier": price_tier,
                "scale": scale, "city": city, **extra}
        r = self.post("/api/v1/merchants", json=body)
        assert r.status_code == 201, r.get_json()
        data = r.get_json()
        actor = Actor(id=data["merchant"]["id"], key=data["api_key"]["key"], name=name)
        if with_store:
            store = self.post("/api/v1/stores", actor.key,
                              json={"name": f"{name} 门店", "address": "文三路 1 号", "city": city})
            assert store.status_code == 201, store.get_json()
            actor.store_id = store.get_json()["id"]
            tk = self.post(f"/api/v1/stores/{actor.store_id}/terminal-keys", actor.key, json={})
            assert tk.status_code == 201, tk.get_json()
            actor.terminal_key = tk.get_json()["key"]
        return actor


@pytest.fixture
def api(client):
    return ApiClient(client)


@pytest.fixture
def merchant(api):
    return api.register("贝贝童车馆", categories=["stroller"])


@pytest.fixture
def other_merchant(api):
    return api.register("暖暖孕婴坊", categories=["maternity", "baby_care"])


def assert_problem(response, status: int, code: str | None = None):
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json", response.mimetype
    body = response.get_json(force=True)
    for field in ("type", "title", "status", "detail", "code"):
        assert field in body, body
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    return body


def partner_up(api: ApiClient, proposer: Actor, partner: Actor, rate_bps: int = 500) -> int:
    r = api.post("/api/v1/partnerships", proposer.key, json={
        "partner_id": partner.id, "commission": {"type": "percent", "rate_bps": rate_bps}, "currency": "CNY"})
    assert r.status_code == 201, r.get_json()
    pid = r.get_json()["id"]
    assert api.post(f"/api/v1/partnerships/{pid}/accept", partner.key).status_code == 200
    return pid


def offer_body(**overrides) -> dict:
    from datetime import timedelta

    from exchange import clock

    now = clock.now()
    body = {"title": "满200减30 孕婴好物", "discount": {"type": "amount", "amount": 3000},
            "min_spend": 20000, "currency": "CNY",
            "valid_from": (now - timedelta(days=1)).isoformat(),
            "valid_until": (now + timedelta(days=30)).isoformat()}
    body.update(overrides)
    return body


def make_offer(api: ApiClient, owner: Actor, **overrides) -> dict:
    r = api.post("/api/v1/offers", owner.key, json=offer_body(**overrides))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


@dataclass
class World:
    stroller: Actor
    maternity: Actor
    outsider: Actor
    offer: dict


@pytest.fixture
def world(api) -> World:
    """The article's pair: the stroller shop hands out the maternity store's coupons."""
    stroller = api.register("贝贝童车馆", categories=["stroller"])
    maternity = api.register("暖暖孕婴坊", categories=["maternity", "baby_care"])
    outsider = api.register("老周五金", categories=["hardware"])
    partner_up(api, stroller, maternity)
    return World(stroller, maternity, outsider, make_offer(api, maternity))


def at(instant: str) -> None:
    """Set the sandbox clock to an ISO 8601 instant (it runs on from there)."""
    clock.set_now(datetime.fromisoformat(instant))


@dataclass
class Month:
    """Three partners who owe each other in every direction: stroller ⇄ maternity ⇄ toys."""

    api: object
    operator: str
    stroller: Actor
    maternity: Actor
    toys: Actor
    offers: dict

    def redeem(self, owner: Actor, distributor: Actor, amount: int = 25000) -> dict:
        offer = self.offers[owner.id]
        coupon = self.api.post(f"/api/v1/offers/{offer['id']}/coupons", distributor.key, json={"count": 1})
        assert coupon.status_code == 201, coupon.get_json()
        r = self.api.post("/api/v1/redemptions", owner.terminal_key, headers={"Idempotency-Key": str(uuid.uuid4())},
                          json={"payload": coupon.get_json()["items"][0]["payload"], "order_amount": amount})
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def refund(self, owner: Actor, redemption: dict, amount: int) -> dict:
        r = self.api.post(f"/api/v1/redemptions/{redemption['id']}/reversals", owner.terminal_key,
                          headers={"Idempotency-Key": str(uuid.uuid4())},
                          json={"refund_amount": amount, "reason": "退货 returned"})
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def close(self, period: str, **extra):
        return self.api.post("/api/v1/settlements", self.operator, json={"period": period, **extra})

    def statement(self, who: Actor | None, period: str) -> dict:
        r = self.api.get(f"/api/v1/settlements/{period}", who.key if who else self.operator)
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def obligation(self, who: Actor, partner: Actor, period: str) -> dict:
        return next(o for o in self.statement(who, period)["obligations"] if o["partner"]["id"] == partner.id)


def csv_table(body: bytes) -> list[list[str]]:
    """A CSV file the way Excel on a Chinese Windows needs it: UTF-8 with a byte-order mark and
    CRLF line ends (RFC 4180); its rows, header first."""
    assert body.startswith(codecs.BOM_UTF8), body[:20]
    text = body.decode("utf-8-sig")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", ""), text[:200]
    return list(csv.reader(io.StringIO(text, newline="")))


def csv_rows(body: bytes) -> list[dict]:
    """The rows of a CSV file (see `csv_table`) by column name."""
    header, *rows = csv_table(body)
    return [dict(zip(header, row, strict=True)) for row in rows]
