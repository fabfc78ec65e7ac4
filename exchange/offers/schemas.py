from __future__ import annotations

import marshmallow as ma

from ..http.fields import Amount, AwareDateTime, Currency, Fen, Id, StrictBoolean, StrictInteger, StrictSchema, Text
from ..merchants.schemas import list_schema
from ..money import FEN_HINT


class DiscountSchema(StrictSchema):
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(["amount", "percent"]))
    amount = Amount(metadata={"description": "off the order, for type amount"})
    rate_bps = StrictInteger(validate=ma.validate.Range(min=1, max=10_000),
                             metadata={"description": "percent off in basis points (1500 = 15%), for type percent"})
    max_amount = Amount(metadata={"description": "the most off an order, required for type percent"})

    @ma.validates_schema
    def _shape(self, data, **kwargs):
        needed = {"amount": {"amount"}, "percent": {"rate_bps", "max_amount"}}.get(data.get("type"))
        if needed is None:
            return
        errors = {f: ["Required for this discount type."] for f in needed if f not in data}
        errors |= {f: ["Not allowed for this discount type."]
                   for f in {"amount", "rate_bps", "max_amount"} - needed if f in data}
        if errors:
            raise ma.ValidationError(errors)


class OfferCreateSchema(StrictSchema):
    title = Text(max_length=80, required=True)
    description = Text(max_length=500, load_default=None)
    discount = ma.fields.Nested(DiscountSchema, required=True)
    min_spend = Amount(allow_zero=True, load_default=0, metadata={"description": "the smallest order it applies to"})
    currency = Currency(required=True)
    valid_from = AwareDateTime(required=True)
    valid_until = AwareDateTime(required=True)
    uses_per_coupon = StrictInteger(load_default=1, validate=ma.validate.Range(min=1, max=100))
    max_coupons = StrictInteger(load_default=None, validate=ma.validate.Range(min=1, max=10_000_000))
    budget = Amount(load_default=None, metadata={"description": "total discount this offer may give"})
    per_customer_limit = StrictInteger(load_default=None, validate=ma.validate.Range(min=1, max=1000))
    distributor_share_bps = StrictInteger(load_default=0, validate=ma.validate.Range(min=0, max=10_000),
                                          metadata={"description": "co-funding: share of each discount "
                                                    "the distributor pays back, basis points"})
    restore_use_on_refund = ma.fields.String(load_default="full_refund",
                                             validate=ma.validate.OneOf(["full_refund", "never"]))
    distributors = ma.fields.List(Id(), load_default=list, validate=ma.validate.Length(max=200),
                                  metadata={"description": "partners allowed to hand it out; "
                                                            "empty: every active partner"})
    allow_free_order = StrictBoolean(load_default=False, load_only=True, metadata={
        "description": "an offer whose discount can pay for a whole order (a fixed discount at least its "
                       "min_spend, or 100% off) is refused unless this is true"})

    @ma.validates_schema
    def _window(self, data, **kwargs):
        if "valid_from" in data and "valid_until" in data and data["valid_until"] <= data["valid_from"]:
            raise ma.ValidationError("Must be after valid_from.", "valid_until")


class OfferOwnerSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()


class OfferSchema(ma.Schema):
    id = ma.fields.Integer()
    owner = ma.fields.Nested(OfferOwnerSchema)
    title = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    discount = ma.fields.Dict()
    min_spend = Fen()
    currency = ma.fields.String()
    valid_from = ma.fields.DateTime()
    valid_until = ma.fields.DateTime()
    uses_per_coupon = ma.fields.Integer()
    max_coupons = ma.fields.Integer(allow_none=True)
    budget = Fen(allow_none=True)
    per_customer_limit = ma.fields.Integer(allow_none=True)
    distributors = ma.fields.List(ma.fields.Integer(), attribute="distributor_ids")
    distributor_share_bps = ma.fields.Integer()
    restore_use_on_refund = ma.fields.String()
    status = ma.fields.String()
    coupons_issued = ma.fields.Integer()
    budget_spent = ma.fields.Function(
        lambda o: o.budget_spent if o.budget is not None else None, allow_none=True,
        metadata={"type": "integer", "description": "discount given against the budget (null without a budget); "
                                             + FEN_HINT})
    created_at = ma.fields.DateTime()


OfferListSchema = list_schema(OfferSchema)


class OfferQuerySchema(StrictSchema):
    role = ma.fields.String(load_default="owner", validate=ma.validate.OneOf(["owner", "distributor"]))
