from __future__ import annotations

import marshmallow as ma

from ..coupons.codes import display
from ..http.fields import Fen, StrictSchema, Text
from ..redemptions.schemas import RedemptionSchema


class PairingCreateSchema(StrictSchema):
    label = Text(max_length=80, load_default=None, allow_none=True,
                 metadata={"description": "what the paired till will be called, e.g. 收银台 1"})


class PairingSchema(ma.Schema):
    """A pairing just made: the only time its code is shown."""

    id = ma.fields.Integer(attribute="pairing.id")
    store_id = ma.fields.Integer(attribute="pairing.store_id")
    label = ma.fields.String(attribute="pairing.label", allow_none=True)
    code = ma.fields.String(attribute="display_code", metadata={"description": "8 characters to type on /till"})
    url = ma.fields.String(metadata={"description": "open it on the device (or scan its QR) to pair it"})
    qr_png_url = ma.fields.String(metadata={"description": "the url as a QR image (merchant key)"})
    expires_at = ma.fields.DateTime(attribute="pairing.expires_at")


class PairingQrQuerySchema(StrictSchema):
    code = ma.fields.String(load_default=None, validate=ma.validate.Length(max=40),
                            metadata={"description": "the pairing's code"})


class PairingExchangeSchema(StrictSchema):
    code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=40), metadata={
        "description": "the pairing code (any case, spaces, dashes or full-width characters)"})


class TillStoreSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    address = ma.fields.String()


class TillMerchantSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()


class PairedTillSchema(ma.Schema):
    """The new till's terminal key, shown this once: the device keeps it, nobody types it."""

    terminal_key = ma.fields.String(attribute="issued.plaintext")
    till_id = ma.fields.Integer(attribute="issued.key.id")
    label = ma.fields.String(attribute="issued.key.label", allow_none=True)
    store = ma.fields.Nested(TillStoreSchema)
    merchant = ma.fields.Nested(TillMerchantSchema)


class TillSchema(ma.Schema):
    id = ma.fields.Integer()
    label = ma.fields.String(allow_none=True)
    store_id = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": "paired or unpaired"})
    paired_at = ma.fields.DateTime()
    unpaired_at = ma.fields.DateTime(allow_none=True)


class TillListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(TillSchema))


class ThisTillSchema(ma.Schema):
    id = ma.fields.Integer()
    label = ma.fields.String(allow_none=True)
    paired_at = ma.fields.DateTime()


class TillSelfSchema(ma.Schema):
    till = ma.fields.Nested(ThisTillSchema)
    store = ma.fields.Nested(TillStoreSchema)
    merchant = ma.fields.Nested(TillMerchantSchema)


class DayRefundSchema(ma.Schema):
    id = ma.fields.Integer(attribute="reversal.id")
    redemption_id = ma.fields.Integer(attribute="reversal.redemption_id")
    coupon_code = ma.fields.Function(lambda row: display(row["coupon_code"]))
    refund_amount = Fen(attribute="reversal.refund_amount")
    commission_clawback = Fen(attribute="reversal.commission_clawback")
    reason = ma.fields.String(attribute="reversal.reason")
    use_restored = ma.fields.Boolean(attribute="reversal.use_restored")
    reversed_at = ma.fields.DateTime(attribute="reversal.reversed_at")
    offline_at = ma.fields.DateTime(attribute="reversal.offline_at", allow_none=True)


class DayTotalsSchema(ma.Schema):
    redemptions = ma.fields.Integer()
    order_amount = Fen()
    discount = Fen()
    paid_amount = Fen()
    refunds = ma.fields.Integer()
    refunded_amount = Fen()
    net_amount = Fen(metadata={"description": "paid_amount less today's refunds"})


class StoreDaySchema(ma.Schema):
    date = ma.fields.String(metadata={"description": "the day, in the settlement timezone"})
    timezone = ma.fields.String()
    store_id = ma.fields.Integer()
    redemptions = ma.fields.List(ma.fields.Nested(RedemptionSchema), metadata={"description": "latest first"})
    refunds = ma.fields.List(ma.fields.Nested(DayRefundSchema), metadata={"description": "latest first"})
    totals = ma.fields.Nested(DayTotalsSchema, metadata={"description": "over the whole day"})
    complete = ma.fields.Boolean(metadata={"description": "false when the lists show only the latest 200"})
