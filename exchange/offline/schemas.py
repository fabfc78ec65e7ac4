from __future__ import annotations

import marshmallow as ma

from ..http.fields import MAX_AMOUNT, MAX_ID, Amount, Fen, StrictInteger, StrictSchema


class RiskLimitsInSchema(StrictSchema):
    max_offline_redemptions_per_day = StrictInteger(validate=ma.validate.Range(min=0, max=10_000), metadata={
        "description": "the most redemptions one till accepts offline per day (0: no offline redemption)"})
    max_offline_discount_per_day = Amount(allow_zero=True, max_amount=MAX_AMOUNT, metadata={
        "description": "the most discount one till gives offline per day"})
    max_catalog_age_hours = StrictInteger(validate=ma.validate.Range(min=1, max=168), metadata={
        "description": "a till refuses offline once its cached catalog is older than this"})


class RiskLimitsSchema(ma.Schema):
    store_id = ma.fields.Integer()
    max_offline_redemptions_per_day = ma.fields.Integer()
    max_offline_discount_per_day = Fen()
    max_catalog_age_hours = ma.fields.Integer()
    is_default = ma.fields.Boolean(metadata={"description": "true until the merchant sets them"})
    updated_at = ma.fields.DateTime(allow_none=True)


class DiscountRuleSchema(ma.Schema):
    type = ma.fields.String()
    amount = Fen()
    rate_bps = ma.fields.Integer()
    max_amount = Fen()


class CatalogOfferSchema(ma.Schema):
    id = ma.fields.Integer()
    title = ma.fields.String()
    status = ma.fields.String(metadata={"description": "active or paused"})
    discount = ma.fields.Nested(DiscountRuleSchema)
    min_spend = Fen()
    currency = ma.fields.String()
    valid_from = ma.fields.DateTime()
    valid_until = ma.fields.DateTime()
    full_discount = Fen()
    budget_left = Fen(allow_none=True)


class CatalogPartnershipSchema(ma.Schema):
    merchant_id = ma.fields.Integer(metadata={"description": "the partner (a coupon's distributor)"})
    starts_at = ma.fields.DateTime(allow_none=True)
    ends_at = ma.fields.DateTime(allow_none=True)


class CatalogCouponsSchema(ma.Schema):
    offer_id = ma.fields.Integer()
    distributor_id = ma.fields.Integer()
    uses_left = ma.fields.Integer()
    ids = ma.fields.List(ma.fields.List(ma.fields.Integer()),
                         metadata={"description": "usable coupon ids, as inclusive [first, last] ranges"})


class CatalogSchema(ma.Schema):
    generated_at = ma.fields.DateTime(metadata={"description": "the exchange's time"})
    store_id = ma.fields.Integer()
    merchant_id = ma.fields.Integer()
    limits = ma.fields.Nested(RiskLimitsSchema)
    offers = ma.fields.List(ma.fields.Nested(CatalogOfferSchema))
    partnerships = ma.fields.List(ma.fields.Nested(CatalogPartnershipSchema))
    coupons = ma.fields.List(ma.fields.Nested(CatalogCouponsSchema))
    jwks_url = ma.fields.Constant("/.well-known/jwks.json")


class OfflineConflictSchema(ma.Schema):
    id = ma.fields.Integer()
    store_id = ma.fields.Integer()
    till_id = ma.fields.Integer(allow_none=True)
    coupon_id = ma.fields.Integer(allow_none=True)
    reason = ma.fields.String(metadata={"description": "double_spend or limit_exceeded"})
    code = ma.fields.String(metadata={"description": "the refusal the till got"})
    order_ref = ma.fields.String(allow_none=True)
    order_amount = Fen()
    idempotency_key = ma.fields.String()
    offline_at = ma.fields.DateTime(metadata={"description": "the till's time of the offline redemption"})
    detected_at = ma.fields.DateTime(metadata={"description": "when the sync was refused"})


class ConflictQuerySchema(StrictSchema):
    store_id = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=1, max=MAX_ID))
    after = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0, max=MAX_ID))
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=500))


class ConflictPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(OfflineConflictSchema))
    next_after = ma.fields.Integer(allow_none=True)
