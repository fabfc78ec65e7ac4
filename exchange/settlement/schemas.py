from __future__ import annotations

import marshmallow as ma

from ..http.fields import MAX_ID, Amount, Currency, Fen, Id, StrictSchema, Text
from ..merchants.schemas import list_schema
from .netting import MODES

PERIOD = ma.fields.String(required=True, validate=ma.validate.Length(max=7),
                          metadata={"description": "a month, YYYY-MM", "example": "2026-10"})


class CloseSchema(StrictSchema):
    period = PERIOD
    netting = ma.fields.String(load_default=None, validate=ma.validate.OneOf(MODES), metadata={
        "description": "bilateral (one transfer per pair) or multilateral (at most N−1 transfers); "
                       "default EXCHANGE_SETTLEMENT_NETTING"})
    min_transfer = Amount(allow_zero=True, load_default=None, metadata={
        "description": "nets below this carry into the next month; default EXCHANGE_MIN_TRANSFER"})


class StatementFileQuerySchema(StrictSchema):
    merchant_id = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=1, max=MAX_ID), metadata={
        "description": "operator only: whose statement (a merchant's key always gets its own)"})


class PairSchema(StrictSchema):
    partner_id = Id(required=True)
    currency = Currency(load_default=None, metadata={"description": "needed only if the pair settles in several"})


class DisputeCreateSchema(PairSchema):
    reason = Text(max_length=500, required=True)


class AdjustmentSchema(StrictSchema):
    payer_id = Id(required=True)
    amount = Amount(required=True, metadata={"description": "what the payer owes the other side on top"})


class ResolveSchema(StrictSchema):
    resolution = Text(max_length=500, required=True)
    adjustment = ma.fields.Nested(AdjustmentSchema, load_default=None, metadata={
        "description": "a correction, posted now: it lands in the next open period"})


class SettlementSummarySchema(ma.Schema):
    period = ma.fields.String()
    status = ma.fields.Constant("closed")
    closed_at = ma.fields.DateTime()
    closed_by = ma.fields.String()
    netting = ma.fields.String()
    min_transfer = Fen()
    entries = ma.fields.Integer(metadata={"description": "receivable ledger entries the month holds"})
    pairs = ma.fields.Function(lambda s: len(s.obligations))
    digest = ma.fields.String()


class NamedSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String(allow_none=True)


class FlowSchema(ma.Schema):
    commission = Fen()
    clawback = Fen()
    cofunding = Fen()
    cofunding_returned = Fen()
    adjustment = Fen()
    total = Fen()


class DisputeBriefSchema(ma.Schema):
    id = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": "open (the pair is held) or resolved"})
    opened_by = ma.fields.Integer()
    reason = ma.fields.String()
    opened_at = ma.fields.String()
    resolution = ma.fields.String(allow_none=True)
    adjustment_amount = Fen()
    adjustment_payer_id = ma.fields.Integer(allow_none=True)


class ObligationSchema(ma.Schema):
    """A pair's obligation. Merchants see it from their side (`partner`, `owed_to_you`,
    `you_owe`, signed figures positive when owed to you); the operator sees `a`, `b`,
    `a_owes_b`, `b_owes_a`, signed figures positive when a owes b."""

    id = ma.fields.Integer(allow_none=True, metadata={"description": "null while the month is open"})
    currency = ma.fields.String()
    partner = ma.fields.Nested(NamedSchema)
    owed_to_you = ma.fields.Nested(FlowSchema)
    you_owe = ma.fields.Nested(FlowSchema)
    a = ma.fields.Nested(NamedSchema)
    b = ma.fields.Nested(NamedSchema)
    a_owes_b = ma.fields.Nested(FlowSchema)
    b_owes_a = ma.fields.Nested(FlowSchema)
    carried_in = Fen()
    net = Fen()
    carried_forward = Fen()
    payable = Fen()
    status = ma.fields.String(metadata={"description": "provisional (the month is open), awaiting_confirmation, "
                                                       "confirmed, disputed (held for the operator) or held (its "
                                                       "net would go to a suspended merchant: paid once reinstated)"})
    confirmed_by_you = ma.fields.Boolean()
    confirmed_by_partner = ma.fields.Boolean()
    confirmed_by = ma.fields.List(ma.fields.Integer())
    dispute = ma.fields.Nested(DisputeBriefSchema, allow_none=True)
    digest = ma.fields.String(metadata={"description": "SHA-256 of the pair's figures: the same on both sides"})


class PositionSchema(ma.Schema):
    currency = ma.fields.String()
    merchant = ma.fields.Nested(NamedSchema)
    net_position = Fen()
    held = Fen(metadata={"description": "the part in disputed or held pairs"})


class TransferSchema(ma.Schema):
    currency = ma.fields.String()
    amount = Fen()
    payer = ma.fields.Nested(NamedSchema)
    payee = ma.fields.Nested(NamedSchema)
    direction = ma.fields.String(allow_none=True, metadata={"description": "pay or receive, from your side"})


class CountAmountSchema(ma.Schema):
    count = ma.fields.Integer()
    amount = Fen()


class NettingSummarySchema(ma.Schema):
    gross_obligations = ma.fields.Nested(CountAmountSchema)
    transfers = ma.fields.Nested(CountAmountSchema)


class StatementSchema(ma.Schema):
    period = ma.fields.String()
    status = ma.fields.String(metadata={"description": "open (figures so far), closed (final) or skipped "
                                                      "(never closed, a later month is: it had no activity)"})
    timezone = ma.fields.String()
    starts_at = ma.fields.String()
    ends_at = ma.fields.String()
    closed_at = ma.fields.String(allow_none=True)
    netting = ma.fields.String()
    min_transfer = Fen()
    merchant = ma.fields.Nested(NamedSchema)
    obligations = ma.fields.List(ma.fields.Nested(ObligationSchema))
    positions = ma.fields.List(ma.fields.Nested(PositionSchema))
    net_position = Fen(allow_none=True, metadata={
        "description": "> 0: you are owed money; < 0: you owe (null if you settle in several currencies)"})
    transfers = ma.fields.List(ma.fields.Nested(TransferSchema))
    netting_summary = ma.fields.Nested(NettingSummarySchema)
    digest = ma.fields.String(metadata={"description": "SHA-256 of this statement's canonical JSON"})


class DisputeSchema(ma.Schema):
    id = ma.fields.Integer()
    obligation_id = ma.fields.Integer()
    pair = ma.fields.Function(lambda d: [d.obligation.merchant_a_id, d.obligation.merchant_b_id])
    currency = ma.fields.Function(lambda d: d.obligation.currency)
    opened_by = ma.fields.Integer(attribute="opened_by_id")
    reason = ma.fields.String()
    status = ma.fields.String()
    opened_at = ma.fields.DateTime()
    resolved_at = ma.fields.DateTime(allow_none=True)
    resolution = ma.fields.String(allow_none=True)
    adjustment_amount = Fen()
    adjustment_payer_id = ma.fields.Integer(allow_none=True)
    adjustment_transaction_id = ma.fields.Integer(allow_none=True)


SettlementListSchema = list_schema(SettlementSummarySchema)
DisputeListSchema = list_schema(DisputeSchema)


class SalesSchema(ma.Schema):
    currency = ma.fields.String()
    redemptions = ma.fields.Integer()
    sales_amount = Fen(metadata={"description": "what the customers paid (after the discount)"})
    refunded_amount = Fen(metadata={"description": "refunded since, on these redemptions"})
    commission = Fen(metadata={"description": "earned by the side that sent the customers"})
    commission_clawed_back = Fen(metadata={"description": "clawed back since, on refunds"})
    customers = ma.fields.Integer(metadata={"description": "distinct customers (pseudonymous count)"})


class ReportSideSchema(ma.Schema):
    issued = ma.fields.Integer(metadata={"description": "coupons issued in the month"})
    viewed = ma.fields.Integer(metadata={"description": "of those, coupons whose page a customer opened"})
    redeemed = ma.fields.Integer(metadata={"description": "of those, coupons redeemed at least once"})
    reversed = ma.fields.Integer(metadata={"description": "of those, coupons with a refunded redemption"})
    conversion_bps = ma.fields.Integer(metadata={"description": "redeemed ÷ issued, basis points"})
    sales = ma.fields.List(ma.fields.Nested(SalesSchema), metadata={"description": "the month's redemptions"})


class PartnerReportSchema(ma.Schema):
    partner = ma.fields.Nested(NamedSchema)
    partnership_status = ma.fields.String(allow_none=True)
    you_sent = ma.fields.Nested(ReportSideSchema, metadata={"description": "your customers sent to the partner"})
    they_sent = ma.fields.Nested(ReportSideSchema, metadata={"description": "the partner's customers sent to you"})


class PartnershipReportSchema(ma.Schema):
    period = ma.fields.String()
    timezone = ma.fields.String()
    merchant = ma.fields.Nested(NamedSchema)
    partners = ma.fields.List(ma.fields.Nested(PartnerReportSchema))


class ReportQuerySchema(StrictSchema):
    period = PERIOD
