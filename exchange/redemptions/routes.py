from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ..http.auth import current_principal, requires
from ..http.idempotency import run_idempotently
from ..http.ratelimits import money_path
from . import services
from .schemas import (
    DistributorRedemptionSchema,
    RedeemSchema,
    RedemptionPageSchema,
    RedemptionQuerySchema,
    RedemptionSchema,
    ReversalCreateSchema,
    ReversalSchema,
    ScanSchema,
    VerifySchema,
)

blp = Blueprint("redemptions", __name__, url_prefix="/api/v1",
                description="Redeeming coupons at the owner's till, and refunds")

_REDEMPTION, _REVERSAL = RedemptionSchema(), ReversalSchema()

IDEMPOTENCY_HEADER = {"in": "header", "name": "Idempotency-Key", "required": True,
                      "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                      "description": "a unique key per operation (e.g. a UUID); resend it on retries"}


# A till does a few of these a minute; the limits stop a runaway script (see config).
RATE_LIMITED = money_path("REDEMPTION_RATE_LIMIT", "REDEMPTION_IP_RATE_LIMIT")


@blp.route("/redemptions/verify")
class Verify(MethodView):
    decorators = RATE_LIMITED

    @requires("merchant", "terminal")
    @blp.arguments(ScanSchema)
    @blp.response(200, VerifySchema)
    @blp.alt_response(429, response="TOO_MANY_REQUESTS", description="rate_limited (per key, per address)")
    def post(self, body):
        """Check a scanned coupon against an order: the discount and what the customer pays, or
        why it is refused. Writes nothing."""
        return services.verify(current_principal(), body["payload"], body["order_amount"], body["store_id"])


@blp.route("/redemptions")
class Redemptions(MethodView):
    decorators = RATE_LIMITED

    @requires("merchant")
    @blp.arguments(RedemptionQuerySchema, location="query")
    @blp.response(200, RedemptionPageSchema)
    def get(self, query):
        """Redemptions of your offers (`role=owner`) or of coupons you handed out
        (`role=distributor`), oldest first; `after` pages on."""
        principal = current_principal()
        page = services.list_redemptions(principal, query["role"], query["from_"], query["to"],
                                         query["after"], query["limit"])
        view = RedemptionSchema() if query["role"] == "owner" else DistributorRedemptionSchema()
        return {"items": view.dump(page, many=True),
                "next_after": page[-1].id if len(page) == query["limit"] else None}

    @requires("merchant", "terminal")
    @blp.arguments(RedeemSchema)
    @blp.response(201, RedemptionSchema)
    @blp.alt_response(409, response="CONFLICT",
                      description="coupon_exhausted, or the same Idempotency-Key still in progress")
    @blp.alt_response(410, response="GONE", description="coupon_expired or coupon_revoked")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS", description="rate_limited (per key, per address)")
    @blp.doc(parameters=[IDEMPOTENCY_HEADER])
    def post(self, body):
        """Redeem a coupon for an order, exactly once (requires `Idempotency-Key`). The owner then
        owes the distributor the partnership's commission. A till syncing what it accepted offline
        sends `offline_at`: `offline_at_too_old` / `offline_at_in_future` (422),
        `offline_double_spend` (409) and `offline_limit_reached` (422) are its refusals."""
        principal = current_principal()
        return run_idempotently(
            principal.merchant_id, body, 201, _REDEMPTION.dump,
            lambda once: services.redeem(principal, body["payload"], body["order_amount"],
                                         body["order_ref"], body["store_id"], once, body["offline_at"]))


@blp.route("/redemptions/<id:redemption_id>")
class RedemptionView(MethodView):
    @requires("merchant", "terminal")
    @blp.response(200)
    @blp.doc(responses={"200": {"description": "The owner's view, or the distributor's", "content": {
        "application/json": {"schema": {"oneOf": [RedemptionSchema, DistributorRedemptionSchema]}}}}})
    def get(self, redemption_id):
        """A redemption: the owner (and its tills) see the owner's view, the distributor its own."""
        r = services.visible_redemption(current_principal(), redemption_id)
        view = RedemptionSchema() if current_principal().merchant_id == r.owner_id else DistributorRedemptionSchema()
        return view.dump(r)


@blp.route("/redemptions/<id:redemption_id>/reversals")
class Reversals(MethodView):
    @requires("merchant", "terminal")
    @blp.arguments(ReversalCreateSchema)
    @blp.response(201, ReversalSchema)
    @blp.alt_response(409, response="CONFLICT", description="already_reversed, or the same key still in progress")
    @blp.doc(parameters=[IDEMPOTENCY_HEADER])
    def post(self, body, redemption_id):
        """Refund all or part of a redeemed order (requires `Idempotency-Key`): the commission is
        clawed back pro rata; a full refund within the offer's window gives the use back. A till
        syncing a refund it took offline sends `offline_at` (`offline_at_too_old` /
        `offline_at_in_future`, 422)."""
        principal = current_principal()
        return run_idempotently(
            principal.merchant_id, {**body, "redemption_id": redemption_id}, 201, _REVERSAL.dump,
            lambda once: services.reverse(principal, redemption_id, body["refund_amount"], body["reason"], once,
                                          body["offline_at"]))
