from __future__ import annotations

import marshmallow as ma

from ..http.fields import StrictInteger, StrictSchema, Text
from .models import MAX_CATEGORIES, SCALES


def Categories(**kwargs) -> ma.fields.List:
    return ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=40)),
                          validate=ma.validate.Length(min=1, max=MAX_CATEGORIES),
                          metadata={"description": "1–5 category ids from GET /categories"}, **kwargs)


class MerchantCreateSchema(StrictSchema):
    name = Text(max_length=120, required=True)
    categories = Categories(required=True)
    price_tier = StrictInteger(required=True, validate=ma.validate.Range(min=1, max=5),
                               metadata={"description": "1 (budget) to 5 (premium)"})
    scale = ma.fields.String(required=True, validate=ma.validate.OneOf(SCALES))
    city = Text(max_length=60, required=True)


class MerchantUpdateSchema(StrictSchema):
    name = Text(max_length=120)
    categories = Categories()
    price_tier = StrictInteger(validate=ma.validate.Range(min=1, max=5))
    scale = ma.fields.String(validate=ma.validate.OneOf(SCALES))
    city = Text(max_length=60)


class MerchantSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    categories = ma.fields.List(ma.fields.String(), attribute="category_ids")
    price_tier = ma.fields.Integer()
    scale = ma.fields.String()
    city = ma.fields.String()
    status = ma.fields.String()
    created_at = ma.fields.DateTime()


class KeyCreateSchema(StrictSchema):
    label = Text(max_length=80, load_default=None, allow_none=True)


class ApiKeySchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    label = ma.fields.String(allow_none=True)
    store_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()
    revoked_at = ma.fields.DateTime(allow_none=True)


class NewApiKeySchema(ma.Schema):
    """A key just made (an `IssuedKey`): the only time its secret is ever shown."""

    id = ma.fields.Integer(attribute="key.id")
    kind = ma.fields.String(attribute="key.kind")
    label = ma.fields.String(attribute="key.label", allow_none=True)
    store_id = ma.fields.Integer(attribute="key.store_id", allow_none=True)
    created_at = ma.fields.DateTime(attribute="key.created_at")
    key = ma.fields.String(attribute="plaintext", metadata={"description": "shown once; store it now"})


class RegistrationSchema(ma.Schema):
    merchant = ma.fields.Nested(MerchantSchema)
    api_key = ma.fields.Nested(NewApiKeySchema)


class StoreCreateSchema(StrictSchema):
    name = Text(max_length=120, required=True)
    address = Text(max_length=300, required=True)
    city = Text(max_length=60, required=True)


class StoreSchema(ma.Schema):
    id = ma.fields.Integer()
    merchant_id = ma.fields.Integer()
    name = ma.fields.String()
    address = ma.fields.String()
    city = ma.fields.String()
    created_at = ma.fields.DateTime()


_LISTS: dict[type, type] = {}


def list_schema(item: type[ma.Schema]) -> type[ma.Schema]:
    """The `{items: [...]}` envelope of `item`, one class per item schema."""
    if item not in _LISTS:
        name = f"{item.__name__.removesuffix('Schema')}ListSchema"
        _LISTS[item] = type(name, (ma.Schema,), {"items": ma.fields.List(ma.fields.Nested(item))})
    return _LISTS[item]
