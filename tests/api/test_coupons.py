"""Issuing signed coupons, looking them up, their QR images and the public keys."""

import io
import json
import re

import jwt
import pytest
from PIL import Image
from sqlalchemy import select

from exchange.coupons import codes, qr
from exchange.coupons.models import Coupon
from exchange.offers.models import Offer
from tests.helpers import assert_problem, make_offer
from tests.qr_scan import qr_texts


def issue(api, world, count=1, **extra):
    r = api.post(f"/api/v1/offers/{world.offer['id']}/coupons", world.stroller.key,
                 json={"count": count, **extra})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["items"]


def test_distributor_issues_signed_coupons_with_links(api, world):
    items = issue(api, world, 3)
    assert len(items) == 3
    first = items[0]
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{5}", first["code"])
    assert first["landing_url"] == f"http://exchange.test/c/{first['payload']}"
    assert first["qr_png_url"].endswith("/qr.png") and first["uses_left"] == 1
    assert first["expires_at"] == world.offer["valid_until"].replace("+00:00", "+00:00")


def test_tokens_are_compact_eddsa_with_kid_and_type(api, world):
    token = issue(api, world)[0]["payload"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA" and header["typ"] == "cpn" and header["kid"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert set(claims) == {"c", "exp"} and isinstance(claims["c"], int)


def test_manual_codes_are_random_not_sequential(api, world):
    items = issue(api, world, 50)
    raw = [codes.normalize(i["code"]) for i in items]
    assert len(set(raw)) == 50
    assert raw != sorted(raw)
    assert all(len(c) == 13 and set(c) <= set(codes.ALPHABET) for c in raw)


def test_manual_code_input_is_forgiving():
    code = codes.new_code()
    typed = codes.display(code).lower().replace("0", "o").replace("1", "l")
    assert codes.normalize(typed) == code
    assert codes.normalize("too-short") is None
    assert codes.normalize("U" * 13) is None


@pytest.mark.parametrize("count", [0, 1001, -1, "5", 2.5])
def test_count_must_be_1_to_1000(api, world, count):
    r = api.post(f"/api/v1/offers/{world.offer['id']}/coupons", world.stroller.key, json={"count": count})
    assert_problem(r, 422, "validation_failed")


def test_paused_or_ended_offers_issue_nothing(api, world, session):
    oid = world.offer["id"]
    api.post(f"/api/v1/offers/{oid}/pause", world.maternity.key)
    assert_problem(api.post(f"/api/v1/offers/{oid}/coupons", world.stroller.key, json={}), 409, "offer_paused")
    api.post(f"/api/v1/offers/{oid}/end", world.maternity.key)
    assert_problem(api.post(f"/api/v1/offers/{oid}/coupons", world.stroller.key, json={}), 409, "offer_ended")
    assert session.scalar(select(Coupon.id)) is None


def test_max_coupons_is_never_exceeded(api, world, session):
    offer = make_offer(api, world.maternity, max_coupons=5)
    url = f"/api/v1/offers/{offer['id']}/coupons"
    assert api.post(url, world.stroller.key, json={"count": 4}).status_code == 201
    assert_problem(api.post(url, world.stroller.key, json={"count": 2}), 409, "max_coupons_reached")
    assert api.post(url, world.stroller.key, json={"count": 1}).status_code == 201
    assert session.get(Offer, offer["id"]).coupons_issued == 5


def test_an_exhausted_budget_issues_nothing(api, world, session):
    offer = make_offer(api, world.maternity, budget=6000)
    session.get(Offer, offer["id"]).budget_spent = 6000
    session.commit()
    r = api.post(f"/api/v1/offers/{offer['id']}/coupons", world.stroller.key, json={})
    assert_problem(r, 409, "budget_exhausted")


def test_only_partners_may_issue_and_not_the_owner(api, world):
    url = f"/api/v1/offers/{world.offer['id']}/coupons"
    assert_problem(api.post(url, world.outsider.key, json={}), 404)
    assert_problem(api.post(url, world.maternity.key, json={}), 403, "not_a_distributor")
    assert_problem(api.post(url, world.stroller.terminal_key, json={}), 403, "wrong_key_kind")


def test_a_paused_partnership_stops_issuing(api, world):
    pid = api.get("/api/v1/partnerships", world.stroller.key).get_json()["items"][0]["id"]
    api.post(f"/api/v1/partnerships/{pid}/pause", world.maternity.key)
    assert_problem(api.post(f"/api/v1/offers/{world.offer['id']}/coupons", world.stroller.key, json={}), 404)


def test_customer_reference_is_kept_only_as_a_pseudonym(api, world, session):
    offer = make_offer(api, world.maternity, per_customer_limit=2)
    url = f"/api/v1/offers/{offer['id']}/coupons"
    first = api.post(url, world.stroller.key, json={"customer_ref": "138 0013 8000"})
    assert first.status_code == 201 and "13800138000" not in first.get_data(as_text=True)
    assert api.post(url, world.stroller.key, json={"customer_ref": "138-0013-8000"}).status_code == 201
    assert_problem(api.post(url, world.stroller.key, json={"customer_ref": "13800138000"}), 409,
                   "customer_limit_reached")
    assert api.post(url, world.stroller.key, json={"customer_ref": "13900000000"}).status_code == 201
    stored = session.scalars(select(Coupon.customer_pseudonym).where(Coupon.offer_id == offer["id"])).all()
    assert all(s and len(s) == 64 and "138" not in s for s in stored)
    code = first.get_json()["items"][0]["code"]
    for key in (world.stroller.key, world.maternity.key):
        text = api.get(f"/api/v1/coupons/{code}", key).get_data(as_text=True)
        assert "pseudonym" not in text and stored[0] not in text and "13800138000" not in text


def test_distributor_and_owner_see_a_coupon_nobody_else_does(api, world):
    code = issue(api, world)[0]["code"]
    for key in (world.stroller.key, world.maternity.key):
        body = api.get(f"/api/v1/coupons/{code}", key).get_json()
        assert body["status"] == "valid" and body["uses_left"] == 1
    assert_problem(api.get(f"/api/v1/coupons/{code}", world.outsider.key), 404)
    assert api.get(f"/api/v1/coupons/{code.lower().replace('-', '')}", world.stroller.key).status_code == 200
    assert_problem(api.get("/api/v1/coupons/not-a-code", world.stroller.key), 404)


def test_coupon_lists_page_by_id(api, world):
    issue(api, world, 5)
    page = api.get("/api/v1/coupons?limit=3", world.stroller.key).get_json()
    assert len(page["items"]) == 3 and page["next_after"]
    rest = api.get(f"/api/v1/coupons?limit=3&after={page['next_after']}", world.maternity.key).get_json()
    assert len(rest["items"]) == 2 and rest["next_after"] is None
    assert api.get("/api/v1/coupons", world.outsider.key).get_json()["items"] == []


def _decode_png(data: bytes, scale: float = 1.0) -> str:
    image = Image.open(io.BytesIO(data))
    if scale != 1.0:
        image = image.resize((int(image.width * scale), int(image.height * scale)))
    found = qr_texts(image)
    assert found, "zbar found no QR code"
    return found[0]


def test_qr_png_decodes_with_zbar_at_full_and_half_size(api, world):
    item = issue(api, world)[0]
    r = api.get(f"/api/v1/coupons/{item['code']}/qr.png", world.stroller.key)
    assert r.status_code == 200 and r.mimetype == "image/png"
    for scale in (1.0, 0.5):
        link = _decode_png(r.data, scale)
        prefix, token = link.rsplit("/", 1)
        assert prefix.lower() == "http://exchange.test/c" and token == item["payload"]


def test_qr_is_version_10_or_less_at_error_correction_m():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from exchange.coupons.tokens import COUPON_TYP, sign

    # A large deployment's coupon: 8-digit coupon id, two-digit key id, a year ahead.
    token = sign({"c": 99_999_999, "exp": 1_830_297_600}, kid="12",
                 private_key=Ed25519PrivateKey.generate(), typ=COUPON_TYP)
    for base in ("http://127.0.0.1:8000", "https://coupons.example-exchange.cn"):
        made = qr.make_qr(base, token)
        assert made.version <= 10 and made.error_correction == qr.ERROR_CORRECT_M, base


def test_qr_images_are_cacheable_with_etags(api, world):
    item = issue(api, world)[0]
    url = f"/api/v1/coupons/{item['code']}/qr.png"
    first = api.get(url, world.maternity.key)
    assert first.headers["ETag"] and "max-age" in first.headers["Cache-Control"]
    again = api.get(url, world.maternity.key, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    svg = api.get(f"/api/v1/coupons/{item['code']}/qr.svg", world.stroller.key)
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    assert_problem(api.get(url, world.outsider.key), 404)


def test_jwks_lets_an_independent_library_verify_a_coupon_offline(api, world):
    from jwcrypto import jwk, jws

    token = issue(api, world)[0]["payload"]
    keys = api.get("/.well-known/jwks.json").get_json()
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and "d" not in k for k in keys["keys"])
    keyset = jwk.JWKSet.from_json(json.dumps(keys))
    kid = jwt.get_unverified_header(token)["kid"]
    verifier = jws.JWS()
    verifier.deserialize(token)
    verifier.verify(keyset.get_key(kid), alg="EdDSA")
    assert json.loads(verifier.payload)["c"] > 0
