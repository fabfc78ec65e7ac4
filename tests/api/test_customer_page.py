"""The customer's page `/c/<token>`: what the coupon is worth, where, until when, if still valid."""

import base64
import json
from datetime import timedelta

import jwt
import pytest
from sqlalchemy import select

from exchange import clock
from exchange.coupons.models import Coupon
from tests.helpers import assert_problem, make_offer, partner_up


@pytest.fixture
def coupon(api, world):
    r = api.post(f"/api/v1/offers/{world.offer['id']}/coupons", world.stroller.key, json={})
    return r.get_json()["items"][0]


def page(api, token, **kw):
    return api.get(f"/c/{token}", **kw)


def test_page_is_chinese_by_default_with_value_stores_and_expiry(api, world, coupon):
    r = page(api, coupon["payload"])
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    for text in ("满200减30 孕婴好物", "立减 ¥30.00", "最低消费", "¥200.00", "可使用", "暖暖孕婴坊 门店",
                 "文三路 1 号", "有效期至", "北京时间", "剩余次数", coupon["code"]):
        assert text in html, text
    assert '<html lang="zh-CN">' in html


def test_english_by_query_or_accept_language(api, coupon):
    assert "¥30.00 off" in page(api, coupon["payload"], query_string={"lang": "en"}).get_data(as_text=True)
    html = page(api, coupon["payload"], headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert "Valid until" in html and "Accepted at" in html
    html = page(api, coupon["payload"], headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert "有效期至" in html


def test_strict_content_security_policy_and_no_script(api, coupon):
    r = page(api, coupon["payload"])
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp
    assert "<script" not in r.get_data(as_text=True)
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_json_with_accept_header(api, world, coupon):
    r = page(api, coupon["payload"], headers={"Accept": "application/json"})
    body = r.get_json()
    assert body["kind"] == "coupon"
    part = body["parts"][0]
    assert part["status"] == "valid" and part["uses_left"] == 1 and part["merchant"] == "暖暖孕婴坊"
    assert part["stores"][0]["address"] == "文三路 1 号"


def test_upper_case_link_from_the_qr_works(api, coupon):
    assert api.get(f"/C/{coupon['payload']}").status_code == 200


def test_first_view_is_noted_for_the_funnel(api, coupon, session):
    page(api, coupon["payload"])
    viewed = session.scalar(select(Coupon.first_viewed_at))
    assert viewed is not None
    page(api, coupon["payload"])
    assert session.scalar(select(Coupon.first_viewed_at)) == viewed


def test_used_and_expired_and_revoked_states(api, world, coupon, session):
    c = session.scalar(select(Coupon))
    c.uses_left = 0
    session.commit()
    shown = page(api, coupon["payload"], headers={"Accept": "application/json"}).get_json()
    assert shown["parts"][0]["status"] == "used"
    c.uses_left = 1
    session.commit()
    clock.advance(timedelta(days=31))
    r = page(api, coupon["payload"])
    assert r.status_code == 200 and "已过期" in r.get_data(as_text=True)
    clock.set_now(None)
    api.post(f"/api/v1/offers/{world.offer['id']}/end", world.maternity.key)
    assert "已失效" in page(api, coupon["payload"]).get_data(as_text=True)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _forgeries(token: str, app):
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    from exchange.coupons.signing import keyring

    with app.app_context():
        public_pem = next(iter(keyring().verifying_keys().values())).public_bytes_raw()
    flipped = bytearray(base64.urlsafe_b64decode(payload + "=="))
    flipped[3] ^= 0x01
    none_header = _b64(json.dumps({"alg": "none", "typ": "cpn", "kid": "1"}).encode())
    hs_header = {"kid": jwt.get_unverified_header(token)["kid"], "typ": "cpn"}
    return {
        "alg none": (f"{none_header}.{payload}.", "invalid_signature"),
        "HS256 with the public key": (jwt.encode(claims, public_pem, algorithm="HS256", headers=hs_header),
                                      "invalid_signature"),
        "unknown kid": (f"{_b64(json.dumps({'alg': 'EdDSA', 'kid': '999', 'typ': 'cpn'}).encode())}."
                        f"{payload}.{signature}",
                        "invalid_signature"),
        "wrong typ": (f"{_b64(json.dumps({'alg': 'EdDSA', 'kid': hs_header['kid'], 'typ': 'JWT'}).encode())}."
                      f"{payload}.{signature}",
                      "invalid_signature"),
        "flipped payload bit": (f"{header}.{_b64(bytes(flipped))}.{signature}", None),
        "truncated": (token[:-10], "invalid_signature"),
        "10 KB of garbage": ("x" * 10_240, "malformed_payload"),
        "not a token": ("hello", "malformed_payload"),
    }


def test_forged_and_tampered_tokens_get_a_clear_400_page(api, app, coupon, session):
    for what, (forged, code) in _forgeries(coupon["payload"], app).items():
        r = page(api, forged)
        assert r.status_code in (400, 404), what
        html = r.get_data(as_text=True)
        assert "无效的优惠券" in html and "Traceback" not in html, what
        r = page(api, forged, headers={"Accept": "application/json"})
        body = assert_problem(r, 400)
        if code:
            assert body["code"] == code, (what, body)
        else:
            assert body["code"] in ("invalid_signature", "malformed_payload"), what
    assert session.scalar(select(Coupon.first_viewed_at)) is None


def test_keys_rotate_old_tokens_verify_until_retired(api, app, world, coupon):
    runner = app.test_cli_runner()
    old_kid = jwt.get_unverified_header(coupon["payload"])["kid"]
    result = runner.invoke(args=["exchange", "rotate-keys"])
    assert result.exit_code == 0 and "new current signing key" in result.output
    fresh = api.post(f"/api/v1/offers/{world.offer['id']}/coupons", world.stroller.key, json={}).get_json()["items"][0]
    assert jwt.get_unverified_header(fresh["payload"])["kid"] != old_kid
    kids = {k["kid"] for k in api.get("/.well-known/jwks.json").get_json()["keys"]}
    assert {old_kid, jwt.get_unverified_header(fresh["payload"])["kid"]} <= kids
    assert page(api, coupon["payload"]).status_code == 200
    assert runner.invoke(args=["exchange", "retire-key", old_kid]).exit_code == 0
    assert old_kid not in {k["kid"] for k in api.get("/.well-known/jwks.json").get_json()["keys"]}
    r = page(api, coupon["payload"], headers={"Accept": "application/json"})
    assert_problem(r, 400, "invalid_signature")
    assert page(api, fresh["payload"]).status_code == 200
    current = jwt.get_unverified_header(fresh["payload"])["kid"]
    assert runner.invoke(args=["exchange", "retire-key", current]).exit_code != 0


def test_public_qr_of_a_coupon_link(api, coupon):
    r = api.get(f"/c/{coupon['payload']}/qr.png")
    assert r.status_code == 200 and r.mimetype == "image/png"
    assert api.get("/c/forged.token.here/qr.png").status_code == 400


def test_a_pack_holds_several_partners_coupons(api, world):
    toys = api.register("乐乐玩具屋", categories=["toys"])
    partner_up(api, world.stroller, toys)
    toy_offer = make_offer(api, toys, title="玩具 8 折",
                           discount={"type": "percent", "rate_bps": 2000, "max_amount": 5000})
    r = api.post("/api/v1/packs", world.stroller.key, json={"offer_ids": [world.offer["id"], toy_offer["id"]]})
    assert r.status_code == 201, r.get_json()
    pack = r.get_json()
    assert len(pack["parts"]) == 2 and {p["offer_id"] for p in pack["parts"]} == {world.offer["id"], toy_offer["id"]}
    assert jwt.get_unverified_header(pack["payload"])["typ"] == "cpk"
    html = page(api, pack["payload"]).get_data(as_text=True)
    assert "联合优惠礼包" in html and "满200减30 孕婴好物" in html and "玩具 8 折" in html
    assert api.get(f"/api/v1/coupons/{pack['parts'][1]['code']}", toys.key).status_code == 200
    assert_problem(api.get(f"/api/v1/coupons/{pack['parts'][1]['code']}", world.maternity.key), 404)


def test_packs_need_distinct_offers_the_caller_may_hand_out(api, world):
    oid = world.offer["id"]
    assert_problem(api.post("/api/v1/packs", world.stroller.key, json={"offer_ids": [oid, oid]}), 422)
    assert_problem(api.post("/api/v1/packs", world.stroller.key, json={"offer_ids": [oid]}), 422)
    other = make_offer(api, world.maternity)
    assert_problem(api.post("/api/v1/packs", world.outsider.key, json={"offer_ids": [oid, other["id"]]}), 404)
