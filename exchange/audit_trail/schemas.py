from __future__ import annotations

import marshmallow as ma

from ..http.fields import MAX_ID, AwareDateTime, StrictSchema


class AuditQuerySchema(StrictSchema):
    merchant_id = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=1, max=MAX_ID),
                                    metadata={"description": "only this merchant's events"})
    from_ = AwareDateTime(data_key="from", load_default=None, metadata={"description": "events at or after"})
    to = AwareDateTime(load_default=None, metadata={"description": "events before"})


class AuditPageQuerySchema(AuditQuerySchema):
    after = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0, max=MAX_ID),
                              metadata={"description": "the `next_after` of the previous page"})
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=500))


class AuditEventSchema(ma.Schema):
    id = ma.fields.Integer()
    at = ma.fields.AwareDateTime()
    actor = ma.fields.String(metadata={"description": "`merchant:<key id>`, `terminal:<key id>`, "
                                                      "`operator` or `system`"})
    merchant_id = ma.fields.Integer(allow_none=True)
    action = ma.fields.String()
    subject_type = ma.fields.String()
    subject_id = ma.fields.String()
    from_state = ma.fields.String(allow_none=True)
    to_state = ma.fields.String(allow_none=True)
    data = ma.fields.Dict()


class AuditPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AuditEventSchema))
    next_after = ma.fields.Integer(allow_none=True, metadata={"description": "pass as `after` for the next page"})
