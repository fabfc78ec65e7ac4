from __future__ import annotations

import marshmallow as ma

from ..http.fields import Amount, AwareDateTime, Currency, Fen, Id, StrictInteger, StrictSchema, Text
from .models import Partnership

# A fixed commission above 100,000 yuan per sale is a typo, not a small shop's deal.
MAX_FIXED_COMMISSION = 10_000_000


class CommissionSchema(StrictSchema):
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(["percent", "fixed"]))
    rate_bps = StrictInteger(validate=ma.validate.Range(min=0, max=10_000),
                             metadata={"description": "percent in basis points (500 = 5%), for type percent"})
    amount = Amount(allow_zero=True, max_amount=MAX_FIXED_COMMISSION,
                    metadata={"description": "per redemption, for type fixed"})

    @ma.validates_schema
    def _shape(self, data, **kwargs):
        needed, other = ("rate_bps", "amount") if data.get("type") == "percent" else ("amount", "rate_bps")
        if "type" not in data:
            return
        errors = {}
        if needed not in data:
            errors[needed] = [f"Required for a {data['type']} commission."]
        if other in data:
            errors[other] = [f"Not allowed for a {data['type']} commission."]
        if errors:
            raise ma.ValidationError(errors)


class TermsSchema(StrictSchema):
    commission = ma.fields.Nested(CommissionSchema, required=True)
    currency = Currency(required=True)
    starts_at = AwareDateTime(load_default=None)
    ends_at = AwareDateTime(load_default=None)
    monthly_cap = Amount(load_default=None, allow_none=True,
                         metadata={"description": "most commission owed per settlement month"})

    @ma.validates_schema
    def _window(self, data, **kwargs):
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            raise ma.ValidationError("Must be after starts_at.", "ends_at")


class ProposalSchema(TermsSchema):
    partner_id = Id(required=True)


class TermsOutSchema(ma.Schema):
    version = ma.fields.Integer()
    status = ma.fields.String()
    proposed_by_id = ma.fields.Integer()
    commission = ma.fields.Dict()
    currency = ma.fields.String()
    monthly_cap = Fen(allow_none=True)
    starts_at = ma.fields.DateTime(allow_none=True)
    ends_at = ma.fields.DateTime(allow_none=True)
    proposed_at = ma.fields.DateTime()
    effective_from = ma.fields.DateTime(allow_none=True)
    effective_until = ma.fields.DateTime(allow_none=True)


class CounterpartySchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    city = ma.fields.String()
    categories = ma.fields.List(ma.fields.String(), attribute="category_ids")
    price_tier = ma.fields.Integer()
    scale = ma.fields.String()


class PartnershipSchema(ma.Schema):
    id = ma.fields.Integer()
    status = ma.fields.String()
    proposer_id = ma.fields.Integer()
    partner_id = ma.fields.Integer()
    paused_by_id = ma.fields.Integer(allow_none=True)
    terms = ma.fields.Method("_current_terms", metadata={"description": "terms in force, or the proposal"})
    terms_history = ma.fields.List(ma.fields.Nested(TermsOutSchema), attribute="terms")
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()

    def _current_terms(self, p: Partnership):
        current = next((t for t in p.terms if t.status == "accepted"), p.terms[0])
        return TermsOutSchema().dump(current)


class PartnershipListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PartnershipSchema))


class PartnershipQuerySchema(StrictSchema):
    status = ma.fields.String(validate=ma.validate.OneOf(
        ["proposed", "active", "declined", "paused", "terminated"]))


class SuggestionQuerySchema(StrictSchema):
    limit = ma.fields.Integer(load_default=10, validate=ma.validate.Range(min=1, max=50))
    city = Text(max_length=60, load_default=None)


class SuggestionSchema(ma.Schema):
    merchant = ma.fields.Nested(CounterpartySchema)
    score = ma.fields.Integer(metadata={"description": "0–100, see docs/partners.md"})
    reasons = ma.fields.List(ma.fields.String())


class SuggestionListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(SuggestionSchema))

