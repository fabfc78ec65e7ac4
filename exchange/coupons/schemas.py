from __future__ import annotations

import marshmallow as ma

from ..http.fields import MAX_ID, Fen, Id, StrictInteger, StrictSchema, Text
from ..merchants.schemas import list_schema
from .codes import display
from .state import STATUSES


class IssueSchema(StrictSchema):
    count = StrictInteger(load_default=1, validate=ma.validate.Range(min=1, max=1000))
    customer_ref = Text(max_length=100, load_default=None, load_only=True, metadata={
        "description": "e.g. the customer's phone number: kept only as a keyed pseudonym, "
                       "used for per-customer limits, never shown to anyone"})


class BatchCreateSchema(StrictSchema):
    count = StrictInteger(required=True, validate=ma.validate.Range(min=1, max=100_000))


class PackCreateSchema(StrictSchema):
    offer_ids = ma.fields.List(Id(), required=True, validate=ma.validate.Length(min=2, max=10))
    customer_ref = Text(max_length=100, load_default=None, load_only=True)


class LinksSchema(ma.Schema):
    """Where a token leads: the customer's page and its QR images."""

    landing_url = ma.fields.String(metadata={"description": "what the QR encodes; opens the customer page"})
    qr_png_url = ma.fields.String()
    qr_svg_url = ma.fields.String()


class IssuedCouponSchema(LinksSchema):
    code = ma.fields.Function(lambda row: display(row["code"]))
    payload = ma.fields.String(attribute="token", metadata={"description": "the signed token"})
    expires_at = ma.fields.DateTime()
    uses_left = ma.fields.Integer()


IssuedCouponListSchema = list_schema(IssuedCouponSchema)


class CouponSchema(LinksSchema):
    code = ma.fields.String()
    offer_id = ma.fields.Integer()
    distributor_id = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": "valid, used, expired or revoked"})
    uses_total = ma.fields.Integer()
    uses_left = ma.fields.Integer()
    issued_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime()
    payload = ma.fields.String()


class CouponPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CouponSchema))
    next_after = ma.fields.Integer(allow_none=True, metadata={"description": "pass as `after` for the next page"})


class CouponQuerySchema(StrictSchema):
    offer_id = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=1, max=MAX_ID))
    after = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0, max=MAX_ID))
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=1000))


class BatchSchema(ma.Schema):
    id = ma.fields.Integer()
    offer_id = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": "pending, running, done or cancelled"})
    requested = ma.fields.Integer()
    issued = ma.fields.Integer()
    progress = ma.fields.Function(lambda b: round(b.issued / b.requested, 4))
    created_at = ma.fields.DateTime()
    finished_at = ma.fields.DateTime(allow_none=True)
    detail = ma.fields.String(allow_none=True)


class SheetPartSchema(ma.Schema):
    number = ma.fields.Integer(metadata={"description": "1, 2, …: the part's place in the batch (coupons in id order)"})
    coupons = ma.fields.Integer()
    status = ma.fields.String(metadata={"enum": ["pending", "ready"]})
    pages = ma.fields.Integer(allow_none=True, metadata={"description": "A4 pages, once drawn"})
    size = ma.fields.Integer(allow_none=True, metadata={"description": "bytes of the PDF, once drawn"})
    url = ma.fields.Function(lambda part: f"/api/v1/coupon-batches/{part.batch_id}/sheets/{part.number}.pdf")


class SheetsSchema(ma.Schema):
    batch_id = ma.fields.Integer()
    status = ma.fields.String(metadata={"enum": ["preparing", "ready"],
                                        "description": "ready once every part is drawn"})
    coupons_per_part = ma.fields.Integer()
    parts_ready = ma.fields.Integer()
    parts = ma.fields.List(ma.fields.Nested(SheetPartSchema))
    zip_url = ma.fields.Function(lambda s: f"/api/v1/coupon-batches/{s.batch_id}/sheets.zip",
                                 metadata={"description": "every part in one ZIP, once ready"})


class PackSchema(LinksSchema):
    id = ma.fields.Integer()
    payload = ma.fields.String(attribute="token")
    expires_at = ma.fields.DateTime()
    parts = ma.fields.List(ma.fields.Nested(CouponSchema))


class JwkSchema(ma.Schema):
    kty = ma.fields.String()
    crv = ma.fields.String()
    x = ma.fields.String()
    kid = ma.fields.String()
    alg = ma.fields.String()
    use = ma.fields.String()


class JwksSchema(ma.Schema):
    keys = ma.fields.List(ma.fields.Nested(JwkSchema))


# The customer's page as JSON (`Accept: application/json`): documentation of what views.py builds.

class DiscountViewSchema(ma.Schema):
    type = ma.fields.String(metadata={"enum": ["amount", "percent"]})
    amount = Fen(metadata={"description": "for type amount"})
    rate_bps = ma.fields.Integer(metadata={"description": "for type percent: 1500 = 15% off"})
    max_amount = Fen(metadata={"description": "for type percent: the most off an order"})


class StoreViewSchema(ma.Schema):
    name = ma.fields.String()
    address = ma.fields.String()
    city = ma.fields.String()


class CustomerPartSchema(ma.Schema):
    code = ma.fields.String()
    title = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    merchant = ma.fields.String(metadata={"description": "where it is redeemed"})
    discount = ma.fields.Nested(DiscountViewSchema)
    min_spend = Fen()
    currency = ma.fields.String()
    value = ma.fields.String(metadata={"description": "the discount in words: 立减 ¥30.00, 85折，最多减 ¥50.00"})
    min_spend_text = ma.fields.String(allow_none=True, metadata={"description": "¥200.00; null without one"})
    valid_from = ma.fields.String(metadata={"description": "ISO 8601, settlement timezone"})
    expires_at = ma.fields.String(metadata={"description": "ISO 8601, settlement timezone"})
    valid_until = ma.fields.String(metadata={"description": "the expiry for display: 2026-12-31 23:59"})
    timezone = ma.fields.String()
    uses_left = ma.fields.Integer()
    uses_total = ma.fields.Integer()
    status = ma.fields.String(metadata={"enum": list(STATUSES),
                                        "description": "what the till will decide for an order above the min spend"})
    usable = ma.fields.Boolean()
    refusal = ma.fields.String(allow_none=True, metadata={"description": "the till's refusal code, null if usable"})
    usable_from = ma.fields.String(allow_none=True, metadata={"description": "when not started: from when (ISO 8601)"})
    usable_from_text = ma.fields.String(allow_none=True)
    stores = ma.fields.List(ma.fields.Nested(StoreViewSchema))


class CustomerViewSchema(ma.Schema):
    kind = ma.fields.String(metadata={"enum": ["coupon", "pack"]})
    lang = ma.fields.String(metadata={"enum": ["zh", "en"]})
    parts = ma.fields.List(ma.fields.Nested(CustomerPartSchema))
