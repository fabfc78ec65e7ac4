from __future__ import annotations

import marshmallow as ma

from ..http.fields import StrictSchema
from .types import EVENT_TYPES


class EventTypes(ma.fields.String):
    """A comma-separated list of known event types (`coupon.redeemed,redemption.reversed`)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        types = [t.strip() for t in text.split(",") if t.strip()]
        unknown = [t for t in types if t not in EVENT_TYPES]
        if unknown:
            raise ma.ValidationError(f"Unknown event types: {', '.join(unknown)}.")
        return types


class EventQuerySchema(StrictSchema):
    after = ma.fields.String(load_default=None, validate=ma.validate.Length(max=32), metadata={
        "description": "an event id (`evt_…`): the events after it; none: from your oldest"})
    types = EventTypes(load_default=list, validate=ma.validate.Length(max=2000), metadata={
        "description": "only these types, comma-separated"})
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=500))


class EventSchema(ma.Schema):
    id = ma.fields.String(metadata={"description": "`evt_…`; also the webhook-id of its deliveries"})
    type = ma.fields.String(metadata={"description": "e.g. coupon.redeemed (docs/webhooks.md)"})
    created = ma.fields.DateTime()
    merchant_id = ma.fields.Integer(metadata={"description": "the merchant the event is for (you)"})
    data = ma.fields.Dict(metadata={"description": "the subject in your API view of it"})


class EventPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(EventSchema))
    next_after = ma.fields.String(allow_none=True, metadata={
        "description": "pass as `after` next time (the last event's id; your `after` when none came)"})
    has_more = ma.fields.Boolean()
