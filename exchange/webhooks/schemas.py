from __future__ import annotations

import marshmallow as ma

from ..events.types import ALL, unknown_types
from ..http.fields import MAX_ID, StrictBoolean, StrictSchema, Text

# A URL that fits a browser's address bar; a 10 KB "URL" is not one.
MAX_URL = 2048


def _known_types(types: list[str]) -> None:
    unknown = unknown_types(types)
    if unknown:
        raise ma.ValidationError(f"Unknown event types: {', '.join(unknown)} (docs/webhooks.md lists them).")


def _url(**kwargs) -> ma.fields.Url:
    return ma.fields.Url(schemes={"http", "https"}, require_tld=False, validate=ma.validate.Length(max=MAX_URL),
                         metadata={"description": "where deliveries are POSTed: https:// (http:// outside "
                                                  "production), a public address"}, **kwargs)


def _event_types(**kwargs) -> ma.fields.List:
    return ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=60)),
                          validate=[ma.validate.Length(min=1, max=40), _known_types],
                          metadata={"description": f"event types to send, or [\"{ALL}\"] for all"}, **kwargs)


class EndpointCreateSchema(StrictSchema):
    url = _url(required=True)
    event_types = _event_types(required=True)
    description = Text(max_length=200, load_default=None, allow_none=True)
    enabled = StrictBoolean(load_default=True)


class EndpointUpdateSchema(StrictSchema):
    url = _url()
    event_types = _event_types()
    description = Text(max_length=200, allow_none=True)
    enabled = StrictBoolean()


class RotateSchema(StrictSchema):
    overlap_seconds = ma.fields.Integer(strict=True, load_default=86400,
                                        validate=ma.validate.Range(min=0, max=7 * 86400),
                                        metadata={"description": "how long the old secret keeps signing too "
                                                                 "(default a day, at most a week)"})


class EndpointSchema(ma.Schema):
    id = ma.fields.Integer()
    url = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    event_types = ma.fields.List(ma.fields.String())
    enabled = ma.fields.Boolean()
    status = ma.fields.Function(lambda e: "enabled" if e.enabled else "disabled", metadata={
        "description": "enabled or disabled (by you, or by the exchange after days of failures: see disabled_reason)"})
    disabled_reason = ma.fields.String(allow_none=True)
    failing_since = ma.fields.DateTime(allow_none=True)
    previous_secret_expires_at = ma.fields.DateTime(allow_none=True, metadata={
        "description": "until then the secret before the last rotation signs too"})
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class NewSecretSchema(EndpointSchema):
    secret = ma.fields.String(metadata={"description": "`whsec_…`: shown once; verify signatures with it"})


class PingSchema(ma.Schema):
    event_id = ma.fields.String()


class DeliveryQuerySchema(StrictSchema):
    after = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0, max=MAX_ID))
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=500))


class DeliverySchema(ma.Schema):
    id = ma.fields.Integer()
    event_id = ma.fields.String(metadata={"description": "also the webhook-id header of every attempt"})
    event_type = ma.fields.String()
    status = ma.fields.String(metadata={"description": "pending (waiting for an attempt), succeeded or failed "
                                                       "(gave up after 3 days; redeliver to try again)"})
    attempts = ma.fields.Integer()
    next_attempt_at = ma.fields.DateTime(allow_none=True)
    last_attempt_at = ma.fields.DateTime(allow_none=True)
    last_status_code = ma.fields.Integer(allow_none=True)
    last_latency_ms = ma.fields.Integer(allow_none=True)
    last_excerpt = ma.fields.String(allow_none=True, metadata={"description": "the start of the answer's body"})
    last_error = ma.fields.String(allow_none=True)
    delivered_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()


class DeliveryPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(DeliverySchema))
    next_after = ma.fields.Integer(allow_none=True)
