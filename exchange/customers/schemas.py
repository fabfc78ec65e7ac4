from __future__ import annotations

import marshmallow as ma

from ..http.fields import StrictSchema, Text


class ErasureRequestSchema(StrictSchema):
    customer_ref = Text(required=True, max_length=100, load_only=True, metadata={
        "description": "the reference the coupons were issued with (e.g. the phone number), as it "
                       "was given: spaces, dashes, dots, brackets and letter case do not matter"})


class ErasedSchema(ma.Schema):
    coupons = ma.fields.Integer(metadata={"description": "coupons that no longer name the customer"})
    redemptions = ma.fields.Integer(metadata={"description": "redemptions that no longer name the customer "
                                                             "(amounts, commission and ledger unchanged)"})
    limit_counters = ma.fields.Integer(metadata={"description": "per-customer limit counters removed"})


class ErasureSchema(ma.Schema):
    scope = ma.fields.String(validate=ma.validate.OneOf(["all", "issued_by_you"]), metadata={
        "description": "`all` (the operator); `issued_by_you`: a merchant erases among the coupons it "
                       "handed out and their redemptions"})
    erased = ma.fields.Nested(ErasedSchema, metadata={
        "description": "what this request changed; all zero when there was nothing (left) to erase"})
