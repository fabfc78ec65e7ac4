from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from ..http.auth import current_principal, requires
from ..http.openapi import file_response
from ..http.ratelimits import per_address, per_key
from . import day, services
from .schemas import (
    PairedTillSchema,
    PairingCreateSchema,
    PairingExchangeSchema,
    PairingQrQuerySchema,
    PairingSchema,
    StoreDaySchema,
    TillListSchema,
    TillSelfSchema,
)

blp = Blueprint("tills", __name__, url_prefix="/api/v1",
                description="Pairing phones and tablets as a store's till (/till), and what a till sees")

TOO_MANY = {"response": "TOO_MANY_REQUESTS"}


@blp.route("/stores/<id:store_id>/till-pairings")
class TillPairings(MethodView):
    decorators = per_key("TILL_PAIRING_RATE_LIMIT")

    @requires("merchant")
    @blp.arguments(PairingCreateSchema, required=False)
    @blp.response(201, PairingSchema)
    @blp.alt_response(429, description="rate_limited (per key)", **TOO_MANY)
    def post(self, body, store_id):
        """Make a one-time pairing for a store's till: open `url` on the device (or scan the QR
        at `qr_png_url`, or type `code` on /till) within 10 minutes. Shown once."""
        return services.create_pairing(current_principal(), store_id, body["label"])


@blp.route("/stores/<id:store_id>/till-pairings/qr.png")
class TillPairingQr(MethodView):
    @requires("merchant")
    @blp.arguments(PairingQrQuerySchema, location="query")
    @blp.response(200, content_type="image/png")
    @blp.doc(**file_response("image/png", "the pairing link as a QR code"))
    @blp.alt_response(409, response="CONFLICT", description="pairing_code_used")
    @blp.alt_response(410, response="GONE", description="pairing_code_expired")
    def get(self, query, store_id):
        """A live pairing's link as a QR code, for the device's camera."""
        png = services.pairing_qr(current_principal(), store_id, query["code"])
        return Response(png, mimetype="image/png", headers={"Cache-Control": "no-store"})


@blp.route("/till-pairings/exchange")
class TillPairingExchange(MethodView):
    decorators = per_address("TILL_PAIRING_EXCHANGE_RATE_LIMIT")

    @blp.arguments(PairingExchangeSchema)
    @blp.response(201, PairedTillSchema)
    @blp.alt_response(403, response="FORBIDDEN", description="merchant_suspended")
    @blp.alt_response(404, response="NOT_FOUND", description="pairing_code_unknown")
    @blp.alt_response(409, response="CONFLICT", description="pairing_code_used")
    @blp.alt_response(410, response="GONE", description="pairing_code_expired")
    @blp.alt_response(429, description="rate_limited (per client address)", **TOO_MANY)
    def post(self, body):
        """What /till does with a pairing code: trade it, once, for the device's own terminal
        key (shown only in this answer; the device keeps it). Malformed codes are
        `pairing_code_malformed` (422)."""
        return services.pair_till(body["code"])


@blp.route("/stores/<id:store_id>/tills")
class Tills(MethodView):
    @requires("merchant")
    @blp.response(200, TillListSchema)
    def get(self, store_id):
        """The store's paired tills (and those unpaired), never their keys."""
        return {"items": services.list_tills(current_principal(), store_id)}


@blp.route("/stores/<id:store_id>/tills/<id:till_id>")
class TillView(MethodView):
    @requires("merchant")
    @blp.response(204)
    def delete(self, store_id, till_id):
        """Unpair a till (a lost phone, a device given back): its key is revoked at once."""
        services.unpair_till(current_principal(), store_id, till_id)


@blp.route("/till")
class TillSelf(MethodView):
    @requires("terminal")
    @blp.response(200, TillSelfSchema)
    def get(self):
        """The calling till: its store and merchant (what /till shows in its header)."""
        return services.whoami(current_principal())

    @requires("terminal")
    @blp.response(204)
    def delete(self):
        """The till unpairs itself: its own key is revoked."""
        services.unpair_self(current_principal())


@blp.route("/till/day")
class TillDay(MethodView):
    @requires("terminal")
    @blp.response(200, StoreDaySchema)
    def get(self):
        """Today at the till's store: its redemptions and refunds, latest first, with totals."""
        return day.store_day(current_principal())
