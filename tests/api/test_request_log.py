"""One JSON line per request; never a key, token or customer reference."""

import io
import json
import logging

import pytest
from pythonjsonlogger.json import JsonFormatter


@pytest.fixture
def log_lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("exchange")
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


def test_each_request_logs_one_json_line_with_its_request_id(api, merchant, log_lines):
    r = api.get("/api/v1/stores", merchant.key, headers={"X-Request-Id": "till-42-abcdef"})
    assert r.headers["X-Request-Id"] == "till-42-abcdef"
    lines = [line for line in log_lines() if line.get("message") == "request"]
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == "till-42-abcdef"
    assert line["method"] == "GET" and line["path"] == "/api/v1/stores" and line["status"] == 200
    assert line["merchant_id"] == merchant.id
    assert isinstance(line["duration_ms"], float)


def test_keys_put_in_urls_or_request_ids_are_not_logged(api, merchant, log_lines):
    api.get(f"/api/v1/{merchant.key}")
    r = api.get("/healthz", headers={"X-Request-Id": merchant.key[:60]})
    assert r.headers["X-Request-Id"] != merchant.key[:60]
    text = json.dumps(log_lines())
    assert merchant.key.split("_", 2)[2][:20] not in text


def test_error_lines_carry_the_request_id(api, merchant, log_lines, monkeypatch):
    from exchange.merchants import services

    monkeypatch.setattr(services, "list_stores", lambda *a: 1 / 0)
    r = api.get("/api/v1/stores", merchant.key, headers={"X-Request-Id": "req-0000-1111"})
    assert r.status_code == 500
    errors = [line for line in log_lines() if line.get("levelname", line.get("level")) == "ERROR"
              or line.get("message") == "unhandled error"]
    assert errors and all(line["request_id"] == "req-0000-1111" for line in errors)


def test_a_bad_request_id_is_replaced(api, log_lines):
    r = api.get("/healthz", headers={"X-Request-Id": "<script>alert(1)</script>"})
    assert "<" not in r.headers["X-Request-Id"] and len(r.headers["X-Request-Id"]) == 32


def test_logs_never_contain_keys(api, log_lines, app):
    actor = api.register("日志测试商户")
    api.get("/api/v1/merchants/me", actor.key)
    api.get("/api/v1/stores", actor.terminal_key)
    api.get("/api/v1/merchants/me", app.config["OPERATOR_KEY"])
    text = json.dumps(log_lines(), ensure_ascii=False)
    assert app.config["OPERATOR_KEY"] not in text
    for key in (actor.key, actor.terminal_key):
        assert key.split("_", 2)[2] not in text


def test_logs_never_contain_coupon_tokens_or_customer_references(api, log_lines, world):
    import uuid

    customer = "13812345678 王女士"
    r = api.post(f"/api/v1/offers/{world.offer['id']}/coupons", world.stroller.key,
                 json={"count": 1, "customer_ref": customer})
    assert r.status_code == 201
    coupon = r.get_json()["items"][0]
    api.get(f"/c/{coupon['payload']}")                      # the customer page
    api.get(f"/c/{coupon['payload']}/qr.png")               # its QR image
    api.get(f"/api/v1/coupons/{coupon['code']}", world.stroller.key)
    api.post("/api/v1/redemptions/verify", world.maternity.terminal_key,
             json={"payload": coupon["landing_url"], "order_amount": 25000})
    redeemed = api.post("/api/v1/redemptions", world.maternity.terminal_key,
                        json={"payload": coupon["payload"], "order_amount": 25000},
                        headers={"Idempotency-Key": str(uuid.uuid4())})
    assert redeemed.status_code == 201
    api.post("/api/v1/redemptions", world.maternity.terminal_key, json={"payload": coupon["payload"] + "x",
             "order_amount": 25000}, headers={"Idempotency-Key": str(uuid.uuid4())})  # a refusal, logged
    text = json.dumps(log_lines(), ensure_ascii=False)
    assert len(log_lines()) >= 7
    assert coupon["payload"] not in text and coupon["payload"].split(".")[2] not in text
    assert "13812345678" not in text and "王女士" not in text
