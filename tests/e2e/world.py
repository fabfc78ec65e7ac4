"""Build the article's pair on a live server through its HTTP API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta


def _ok(result, status=201):
    code, _, body = result
    assert code == status, (code, body[:500])
    return json.loads(body) if body else None


def register(server, name, categories):
    reg = _ok(server.request("POST", "/api/v1/merchants", {
        "name": name, "categories": categories, "price_tier": 3, "scale": "small", "city": "杭州"}))
    key = reg["api_key"]["key"]
    store = _ok(server.request("POST", "/api/v1/stores", {
        "name": f"{name} 学院路店", "address": "杭州市西湖区学院路 120 号", "city": "杭州"}, key))
    return {"id": reg["merchant"]["id"], "key": key, "store_id": store["id"]}


def stroller_and_maternity(server, *, max_coupons=None):
    """The stroller shop hands out the maternity store's ¥30-off coupon; returns (s, m, offer)."""
    stroller = register(server, "贝贝童车馆", ["stroller"])
    maternity = register(server, "暖暖孕婴坊", ["maternity", "baby_care"])
    p = _ok(server.request("POST", "/api/v1/partnerships", {
        "partner_id": maternity["id"], "commission": {"type": "percent", "rate_bps": 500},
        "currency": "CNY"}, stroller["key"]))
    _ok(server.request("POST", f"/api/v1/partnerships/{p['id']}/accept", None, maternity["key"]), 200)
    now = datetime.now(UTC)
    offer = _ok(server.request("POST", "/api/v1/offers", {
        "title": "满200减30 孕婴好物", "discount": {"type": "amount", "amount": 3000}, "min_spend": 20000,
        "currency": "CNY", "valid_from": (now - timedelta(days=1)).isoformat(),
        "valid_until": (now + timedelta(days=30)).isoformat(), "max_coupons": max_coupons}, maternity["key"]))
    return stroller, maternity, offer


def issue(server, stroller, offer, count=1):
    return _ok(server.request("POST", f"/api/v1/offers/{offer['id']}/coupons", {"count": count},
                              stroller["key"]))["items"]
