"""How answers travel: CORS for browser apps, compression of the text formats (never of PNG,
PDF or XLSX, never of the till's small answers), revalidation by weak ETags."""

from __future__ import annotations

import gzip
import json
import uuid

import brotli
from flask import Flask

from exchange.coupons import batches
from exchange.files.spreadsheets import XLSX_MIMETYPE
from exchange.http import delivery
from tests.helpers import assert_problem, make_offer

TILL_APP = "https://till.partner.example"  # the test app's EXCHANGE_CORS_ORIGINS (conftest)


def preflight(api, path, origin, method="POST", headers="authorization, content-type, idempotency-key"):
    return api.call("OPTIONS", path, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                               "Access-Control-Request-Headers": headers})


def test_a_browser_app_on_a_configured_origin_may_call_the_api(api, world):
    r = preflight(api, "/api/v1/redemptions", TILL_APP)
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == TILL_APP
    allowed = {h.strip().lower() for h in r.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key"} <= allowed
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    answer = api.get("/api/v1/merchants/me", world.stroller.key, headers={"Origin": TILL_APP})
    assert answer.headers["Access-Control-Allow-Origin"] == TILL_APP
    exposed = {h.strip().lower() for h in answer.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"idempotent-replayed", "retry-after", "x-request-id", "etag"} <= exposed
    assert "Access-Control-Allow-Credentials" not in answer.headers  # keys travel in headers, not cookies


def test_other_origins_get_no_cors_grant(api, world):
    r = preflight(api, "/api/v1/redemptions", "https://evil.example")
    assert "Access-Control-Allow-Origin" not in r.headers
    answer = api.get("/api/v1/merchants/me", world.stroller.key, headers={"Origin": "https://evil.example"})
    assert answer.status_code == 200 and "Access-Control-Allow-Origin" not in answer.headers


def test_without_configured_origins_the_api_grants_none():
    app = Flask(__name__)
    app.config["CORS_ORIGINS"] = []
    app.add_url_rule("/api/v1/ping", "ping", lambda: {"ok": True})
    delivery.init_app(app)
    answer = app.test_client().get("/api/v1/ping", headers={"Origin": TILL_APP})
    assert answer.status_code == 200 and "Access-Control-Allow-Origin" not in answer.headers


def test_the_public_keys_and_the_customer_pages_json_are_readable_from_any_origin(api, world):
    coupon = api.post(f"/api/v1/offers/{world.offer['id']}/coupons", world.stroller.key, json={}).get_json()["items"][0]
    keys = api.get("/.well-known/jwks.json", headers={"Origin": "https://anyone.example"})
    assert keys.headers["Access-Control-Allow-Origin"] == "*"
    page = api.get(f"/c/{coupon['payload']}",
                   headers={"Origin": "https://anyone.example", "Accept": "application/json"})
    assert page.status_code == 200 and page.headers["Access-Control-Allow-Origin"] == "*"
    assert page.get_json()["parts"][0]["usable"] is True


def test_json_is_compressed_with_brotli_or_gzip_as_accepted(api):
    plain = api.get("/openapi.json")
    assert "Content-Encoding" not in plain.headers and len(plain.data) > 100_000
    for coding, decompress in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        r = api.get("/openapi.json", headers={"Accept-Encoding": coding})
        assert r.headers["Content-Encoding"] == coding and "Accept-Encoding" in r.headers["Vary"]
        assert len(r.data) < len(plain.data) / 5 and decompress(r.data) == plain.data
    assert api.get("/openapi.json", headers={"Accept-Encoding": "gzip, br"}).headers["Content-Encoding"] == "br"


def test_the_tills_small_answers_are_sent_as_they_are(api, world):
    coupon = api.post(f"/api/v1/offers/{world.offer['id']}/coupons", world.stroller.key, json={}).get_json()["items"][0]
    body = {"payload": coupon["payload"], "order_amount": 25000}
    verify = api.post("/api/v1/redemptions/verify", world.maternity.terminal_key, json=body,
                      headers={"Accept-Encoding": "gzip, br"})
    redeem = api.post("/api/v1/redemptions", world.maternity.terminal_key, json=body,
                      headers={"Accept-Encoding": "gzip, br", "Idempotency-Key": str(uuid.uuid4())})
    for r in (verify, redeem):
        assert r.status_code in (200, 201) and "Content-Encoding" not in r.headers
        assert len(r.data) < delivery.MIN_COMPRESSED_SIZE  # below the threshold: no CPU spent
        json.loads(r.data)


def test_csv_svg_and_html_are_compressed_png_pdf_and_xlsx_never(api, world):
    batch = api.post(f"/api/v1/offers/{world.offer['id']}/coupon-batches", world.stroller.key,
                     json={"count": 40}).get_json()
    batches.work("worker-a")
    coupon = api.post(f"/api/v1/offers/{world.offer['id']}/coupons", world.stroller.key, json={}).get_json()["items"][0]
    second = make_offer(api, world.maternity, title="满300减50 婴儿推车配件")
    pack = api.post("/api/v1/packs", world.stroller.key, json={"offer_ids": [world.offer["id"], second["id"]]})
    key, accept = world.stroller.key, {"Accept-Encoding": "br, gzip"}
    compressed = {
        "text/csv": api.get(f"/api/v1/coupon-batches/{batch['id']}/export.csv", key, headers=accept),
        "image/svg+xml": api.get(f"/api/v1/coupons/{coupon['code']}/qr.svg", key, headers=accept),
        "text/html": api.get(f"/c/{pack.get_json()['payload']}", headers=accept),  # a pack's page: 2 KB
    }
    for mimetype, r in compressed.items():
        assert r.status_code == 200 and r.mimetype == mimetype and r.headers["Content-Encoding"] == "br", mimetype
        assert brotli.decompress(r.data)
    left_alone = {
        "image/png": api.get(f"/api/v1/coupons/{coupon['code']}/qr.png", key, headers=accept),
        "application/pdf": api.get(f"/api/v1/coupon-batches/{batch['id']}/sheet.pdf", key, headers=accept),
        XLSX_MIMETYPE: api.get(f"/api/v1/coupon-batches/{batch['id']}/export.xlsx", key, headers=accept),
    }
    for mimetype, r in left_alone.items():
        assert r.status_code == 200 and r.mimetype == mimetype and "Content-Encoding" not in r.headers, mimetype
        assert mimetype not in delivery.COMPRESSED_TYPES  # left alone for their type, whatever the size
    assert all(len(r.data) > delivery.MIN_COMPRESSED_SIZE for r in list(left_alone.values())[1:])


def test_if_none_match_compares_weakly(api, world):
    coupon = api.post(f"/api/v1/offers/{world.offer['id']}/coupons", world.stroller.key, json={}).get_json()["items"][0]
    for fmt in ("png", "svg"):
        url = f"/api/v1/coupons/{coupon['code']}/qr.{fmt}"
        first = api.get(url, world.stroller.key)
        etag = first.headers["ETag"]
        assert etag.startswith('W/"')
        opaque = etag[2:]
        # RFC 9110 §13.1.2: W/"x" and "x" match weakly; a compressed answer's validator too.
        for sent in (etag, opaque, f'"other", {etag}', "*"):
            again = api.get(url, world.stroller.key, headers={"If-None-Match": sent, "Accept-Encoding": "br"})
            assert again.status_code == 304 and again.data == b"", (fmt, sent)
        assert api.get(url, world.stroller.key, headers={"If-None-Match": 'W/"other"'}).status_code == 200


def test_the_public_keys_are_cacheable_and_revalidate_with_their_etag(api):
    first = api.get("/.well-known/jwks.json")
    assert first.status_code == 200 and first.get_json()["keys"]
    assert first.headers["Cache-Control"] == "public, max-age=300"
    etag = first.headers["ETag"]
    again = api.get("/.well-known/jwks.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag and again.data == b""
    assert api.get("/.well-known/jwks.json", headers={"If-None-Match": etag[2:]}).status_code == 304


def test_an_error_is_never_compressed_out_of_its_shape(api):
    r = api.get("/api/v1/merchants/me", headers={"Accept-Encoding": "br"})
    assert_problem(r, 401)
