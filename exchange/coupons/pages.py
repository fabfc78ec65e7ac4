"""The customer's coupon page `/c/<token>`, its QR image, and the public keys (JWKS).

No account, no JavaScript, a strict Content-Security-Policy: a phone camera opens the link
printed in the QR, and the page says what the coupon is worth, where, until when, and whether
it still is. Chinese by default; English by `Accept-Language` or `?lang=en`.
"""

from __future__ import annotations

import json

from flask import Response, jsonify, render_template, request
from flask.views import MethodView
from flask_smorest import Blueprint

from ..errors import DomainError
from ..http.delivery import conditional, weak_etag
from ..http.openapi import file_response
from ..http.problems import problem
from . import views
from .images import qr_response
from .schemas import CustomerViewSchema, JwksSchema
from .signing import keyring

blp = Blueprint("customer", __name__, description="What customers and offline tills use")

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")

TEXT = {
    "zh": {"title": "优惠券", "pack": "联合优惠礼包", "value": "优惠", "min_spend": "最低消费",
           "valid_until": "有效期至", "uses_left": "剩余次数", "stores": "适用门店",
           "code": "券码", "show": "结账时出示此页面或报出券码",
           "status": {"valid": "可使用", "not_started": "未到使用时间", "paused": "暂停使用",
                      "budget_exhausted": "已发完", "partnership_inactive": "暂不可用",
                      "owner_suspended": "暂不可用", "used": "已使用", "expired": "已过期", "revoked": "已失效"},
           # Why it cannot be used now: what the cashier's till will say, in the customer's words.
           "why": {"not_started": "{from} 起可以使用", "paused": "商家暂停了此优惠，请稍后再试",
                   "budget_exhausted": "此优惠的预算已经用完，目前无法使用",
                   "partnership_inactive": "发券商家与本店的合作目前未生效，此券暂时无法使用",
                   "owner_suspended": "本店目前暂停使用本平台的优惠券，此券暂时无法使用"},
           "invalid_title": "无效的优惠券",
           "invalid": "这不是有效的优惠券：二维码可能损坏、被修改或不是本平台签发的。",
           "beijing": "北京时间", "other_lang": "English", "other_code": "en"},
    "en": {"title": "Coupon", "pack": "Partner coupon pack", "value": "Value", "min_spend": "Minimum spend",
           "valid_until": "Valid until", "uses_left": "Uses left", "stores": "Accepted at",
           "code": "Code", "show": "Show this page or tell the cashier the code at checkout",
           "status": {"valid": "Valid", "not_started": "Not yet valid", "paused": "Paused",
                      "budget_exhausted": "All given out", "partnership_inactive": "Not usable now",
                      "owner_suspended": "Not usable now", "used": "Used", "expired": "Expired",
                      "revoked": "No longer valid"},
           "why": {"not_started": "Can be used from {from}", "paused": "The store has paused this offer for now",
                   "budget_exhausted": "This offer's budget is used up; it cannot be used now",
                   "partnership_inactive": "The partnership behind this coupon is not active; "
                                           "it cannot be used now",
                   "owner_suspended": "This store cannot take the exchange's coupons at the moment"},
           "invalid_title": "Not a valid coupon",
           "invalid": "This is not a valid coupon: the QR code may be damaged, altered, or not issued "
                      "by this exchange.",
           "beijing": "Beijing time", "other_lang": "中文", "other_code": "zh"},
}


# Browsers get the page, `Accept: application/json` its content; a bad token "not a valid
# coupon" as a page or as the problem.
PAGE_RESPONSES = {
    "200": {"description": "The coupon page (HTML), or what it shows as JSON with `Accept: application/json`",
            "content": {"text/html": {"schema": {"type": "string"}},
                        "application/json": {"schema": CustomerViewSchema}}},
    "400": {"description": "Not a valid coupon: an HTML page, or problem+json with `Accept: application/json`",
            "content": {"text/html": {"schema": {"type": "string"}},
                        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}}
BAD_TOKEN = {"400": {"description": "Not a valid coupon (invalid_signature, malformed_payload)",
                     "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}}


def _lang() -> str:
    asked = request.args.get("lang")
    if asked in TEXT:
        return asked
    return request.accept_languages.best_match(["zh", "en"], default="zh") or "zh"


def _wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def _html(body: str, status: int) -> Response:
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(token: str) -> Response:
    lang = _lang()
    try:
        subject = views.token_subject(token)
    except DomainError as error:
        if _wants_json():
            return problem(error.status if error.status != 410 else 400, error.code, error.title, error.detail)
        return _html(render_template("invalid.html", t=TEXT[lang], lang=lang), 400)
    page = views.customer_view(subject, lang)
    views.note_viewed(subject.coupons if page["kind"] == "pack" else [subject])
    if _wants_json():
        return jsonify(page)
    return _html(render_template("coupon.html", page=page, t=TEXT[lang], lang=lang, token=token), 200)


@blp.route("/c/<string:token>")
class CouponPage(MethodView):
    @blp.doc(responses=PAGE_RESPONSES)
    def get(self, token):
        """The customer's coupon page (HTML; JSON with `Accept: application/json`)."""
        return _page(token)


@blp.route("/C/<string:token>")
class CouponPageUpper(MethodView):
    @blp.doc(responses=PAGE_RESPONSES)
    def get(self, token):
        """The same page: QR codes spell the link's prefix in capitals (QR alphanumeric mode)."""
        return _page(token)


@blp.route("/c/<string:token>/qr.png")
class PublicQrPng(MethodView):
    @blp.response(200, content_type="image/png")
    @blp.doc(**file_response("image/png", "the QR code", extra=BAD_TOKEN))
    def get(self, token):
        """The coupon link's QR code as PNG, shown on the customer's page."""
        views.token_subject(token)
        return qr_response(token, "png")


@blp.route("/c/<string:token>/qr.svg")
class PublicQrSvg(MethodView):
    @blp.response(200, content_type="image/svg+xml")
    @blp.doc(**file_response("image/svg+xml", "the QR code", extra=BAD_TOKEN))
    def get(self, token):
        """The coupon link's QR code as SVG."""
        views.token_subject(token)
        return qr_response(token, "svg")


# Tills cache the keys; five minutes bounds how long one can miss a rotation, and revalidating
# costs a 304. A till that meets an unknown `kid` asks again at once (revalidating).
JWKS_CACHE = "public, max-age=300"
CACHE_HEADERS = {"ETag": {"description": "weak validator: send it back in If-None-Match",
                          "schema": {"type": "string"}},
                 "Cache-Control": {"schema": {"type": "string", "example": JWKS_CACHE}}}


@blp.route("/.well-known/jwks.json")
class Jwks(MethodView):
    @blp.response(200, JwksSchema, headers=CACHE_HEADERS)
    @blp.alt_response(304, description="Not modified: the keys named by If-None-Match are current")
    def get(self):
        """The exchange's coupon-signing public keys (Ed25519), for verifying coupons offline."""
        body = json.dumps(keyring().jwks(), sort_keys=True)
        response = conditional(weak_etag("jwks", body), lambda: Response(body, mimetype="application/json"))
        response.headers["Cache-Control"] = JWKS_CACHE
        return response
