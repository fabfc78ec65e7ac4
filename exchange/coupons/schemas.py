from __future__ import annotations

import marshmallow as ma

from ..fields import MAX_ID, Id, StrictInteger, StrictSchema, Text
from ..merchants.schemas import list_schema
from .codes import display


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
