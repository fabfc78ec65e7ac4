from __future__ import annotations

import marshmallow as ma

from ..coupons.codes import display
from ..http.fields import MAX_ID, Amount, AwareDateTime, Fen, Id, StrictSchema, Text


class ScanSchema(StrictSchema):
    payload = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=2048), metadata={
        "description": "what the scanner read (the link or the bare token) or the typed manual code"})
    order_amount = Amount(required=True, metadata={"description": "the order before discount"})
    store_id = Id(load_default=None,
                  metadata={"description": "required with a merchant key; implied by a terminal key"})


class RedeemSchema(ScanSchema):
    order_ref = Text(max_length=64, load_default=None, metadata={"description": "your till's order number"})
    offline_at = AwareDateTime(load_default=None, metadata={
        "description": "a till's own time of a redemption it accepted offline, sent when it syncs: "
                       "within the offline window (72 h by default) and not in the future"})


class VerifySchema(ma.Schema):
    valid = ma.fields.Boolean()
    discount = Fen()
    payable = Fen(metadata={"description": "what the customer pays after the discount"})
    currency = ma.fields.String()
    code = ma.fields.String(metadata={"description": "why it is refused (when valid is false)"})
    detail = ma.fields.String()
    min_spend = Fen(metadata={"description": "with below_min_spend: the minimum spend"})
    usable_from = ma.fields.String(metadata={"description": "with offer_not_started: when it can be used "
                                                            "(ISO 8601, settlement timezone)"})
    coupon_code = ma.fields.Function(lambda v: display(v["coupon_code"]) if v.get("coupon_code") else None)
    offer_id = ma.fields.Integer()
    title = ma.fields.String(metadata={"description": "the offer's title, for the cashier"})
    uses_left = ma.fields.Integer()


class CommissionSchema(ma.Schema):
    amount = Fen(attribute="commission_amount")
    clawed_back = Fen(attribute="commission_clawed_back")
    payer_id = ma.fields.Integer(attribute="owner_id")
    payee_id = ma.fields.Integer(attribute="distributor_id")


class CofundingSchema(ma.Schema):
    amount = Fen(attribute="cofunding_amount")
    returned = Fen(attribute="cofunding_returned")
    payer_id = ma.fields.Integer(attribute="distributor_id")
    payee_id = ma.fields.Integer(attribute="owner_id")


_COMMISSION, _COFUNDING = CommissionSchema(), CofundingSchema()


class RedemptionSchema(ma.Schema):
    """The owner's view of a redemption."""

    id = ma.fields.Integer()
    coupon_code = ma.fields.Function(lambda r: display(r.coupon_code))
    offer_id = ma.fields.Integer()
    store_id = ma.fields.Integer()
    currency = ma.fields.String()
    order_amount = Fen()
    discount = Fen()
    paid_amount = Fen()
    refunded_amount = Fen()
    commission = ma.fields.Function(lambda r: _COMMISSION.dump(r))
    cofunding = ma.fields.Function(lambda r: _COFUNDING.dump(r))
    order_ref = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"description": "redeemed, partially_reversed or reversed"})
    redeemed_at = ma.fields.DateTime(metadata={"description": "when the exchange accepted it (its period)"})
    offline_at = ma.fields.DateTime(allow_none=True, metadata={
        "description": "the till's time, for a redemption accepted offline and synced later"})


class DistributorRedemptionSchema(ma.Schema):
    """The distributor's view: the sale it brought and its commission, not the owner's till data."""

    id = ma.fields.Integer()
    coupon_code = ma.fields.Function(lambda r: display(r.coupon_code))
    offer_id = ma.fields.Integer()
    owner_id = ma.fields.Integer()
    currency = ma.fields.String()
    paid_amount = Fen()
    refunded_amount = Fen()
    commission = ma.fields.Function(lambda r: _COMMISSION.dump(r))
    cofunding = ma.fields.Function(lambda r: _COFUNDING.dump(r))
    status = ma.fields.String()
    redeemed_at = ma.fields.DateTime()
    offline_at = ma.fields.DateTime(allow_none=True)


class ReversalCreateSchema(StrictSchema):
    refund_amount = Amount(required=True)
    reason = Text(max_length=200, required=True)
    offline_at = AwareDateTime(load_default=None, metadata={
        "description": "a till's own time of a refund it took offline, sent when it syncs: within the "
                       "offline window (72 h by default) and not in the future"})


class ReversalSchema(ma.Schema):
    id = ma.fields.Integer()
    redemption_id = ma.fields.Integer()
    refund_amount = Fen()
    commission_clawback = Fen()
    cofunding_returned = Fen()
    reason = ma.fields.String()
    use_restored = ma.fields.Boolean()
    reversed_at = ma.fields.DateTime(metadata={"description": "when the exchange accepted it (its period)"})
    offline_at = ma.fields.DateTime(allow_none=True, metadata={
        "description": "the till's time, for a refund taken offline and synced later"})


class RedemptionQuerySchema(StrictSchema):
    role = ma.fields.String(load_default="owner", validate=ma.validate.OneOf(["owner", "distributor"]))
    from_ = AwareDateTime(data_key="from", load_default=None)
    to = AwareDateTime(load_default=None)
    after = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0, max=MAX_ID))
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=500))


class RedemptionPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Dict())
    next_after = ma.fields.Integer(allow_none=True, metadata={"description": "pass as `after` for the next page"})
