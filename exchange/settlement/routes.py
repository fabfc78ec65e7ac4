from __future__ import annotations

from flask import Response, send_file, stream_with_context
from flask.views import MethodView
from flask_smorest import Blueprint

from ..files.spreadsheets import XLSX_MIMETYPE
from ..http.auth import current_principal, requires
from ..http.openapi import file_response
from . import closing, disputes, downloads, period_view, reports, statements
from .schemas import (
    CloseSchema,
    DisputeCreateSchema,
    DisputeListSchema,
    DisputeSchema,
    ObligationSchema,
    PairSchema,
    PartnershipReportSchema,
    ReportQuerySchema,
    ResolveSchema,
    SettlementListSchema,
    SettlementSummarySchema,
    StatementFileQuerySchema,
    StatementSchema,
)

blp = Blueprint("settlements", __name__, url_prefix="/api/v1",
                description="Month-end: who owes whom, netted, with statements both sides can check")


@blp.route("/settlements")
class Settlements(MethodView):
    @requires("operator")
    @blp.arguments(CloseSchema)
    @blp.response(201, SettlementSummarySchema)
    @blp.alt_response(200, schema=SettlementSummarySchema, description="already closed: the same settlement")
    @blp.alt_response(409, response="CONFLICT", description="closed with other terms, or months out of order")
    def post(self, body):
        """Operator: close an ended month (idempotent — a second close returns the first). Its
        obligations are fixed for good; later events land in the next month."""
        settlement, created = closing.close(body["period"], actor=current_principal().actor,
                                             netting_mode=body["netting"], min_transfer=body["min_transfer"])
        return settlement, 201 if created else 200

    @requires("operator", "merchant")
    @blp.response(200, SettlementListSchema)
    def get(self):
        """The closed months, oldest first."""
        return {"items": period_view.closed_settlements()}


@blp.route("/settlements/<period:period>")
class SettlementView(MethodView):
    @requires("operator", "merchant")
    @blp.response(200, StatementSchema)
    def get(self, period):
        """A month's obligations, net position and transfers: yours (merchant), or everyone's
        (operator). An open month shows its figures so far (`status: open`)."""
        return statements.statement(current_principal(), period)


def _attachment(body, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@blp.route("/settlements/<period:period>/statement.csv")
class StatementCsv(MethodView):
    @requires("merchant", "operator")
    @blp.arguments(StatementFileQuerySchema, location="query")
    @blp.response(200, content_type="text/csv")
    @blp.doc(**file_response("text/csv", "the statement's lines, then per partner and overall totals"))
    def get(self, query, period):
        """Your statement as CSV (the operator: any merchant's, `?merchant_id=`): a line per
        redemption, reversal and adjustment, then per partner carried balances and a subtotal
        equal to the JSON's `payable`, then the net position. UTF-8 with a BOM, CRLF."""
        filename, lines = downloads.statement_csv(current_principal(), period, query["merchant_id"])
        return _attachment(stream_with_context(lines), "text/csv", filename)


@blp.route("/settlements/<period:period>/statement.xlsx")
class StatementXlsx(MethodView):
    @requires("merchant", "operator")
    @blp.arguments(StatementFileQuerySchema, location="query")
    @blp.response(200, content_type=XLSX_MIMETYPE)
    @blp.doc(**file_response(XLSX_MIMETYPE, "the statement as an Excel workbook"))
    def get(self, query, period):
        """The same table as the CSV, as an Excel workbook: amounts in yuan with a ¥ format, times
        as dates in the settlement timezone, totals in bold."""
        filename, body = downloads.statement_xlsx(current_principal(), period, query["merchant_id"])
        return send_file(body, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=filename)


@blp.route("/settlements/<period:period>/statement.pdf")
class StatementPdf(MethodView):
    @requires("merchant", "operator")
    @blp.arguments(StatementFileQuerySchema, location="query")
    @blp.response(200, content_type="application/pdf")
    @blp.doc(**file_response("application/pdf", "the printable statement"))
    def get(self, query, period):
        """Your statement as a printable PDF (the operator: any merchant's, `?merchant_id=`): a
        summary per partner, the month's activity as a chart, the transfers to make or expect,
        and the statement's SHA-256. Its font is embedded."""
        filename, body = downloads.statement_pdf(current_principal(), period, query["merchant_id"])
        return _attachment(body, "application/pdf", filename)


@blp.route("/settlements/<period:period>/confirm")
class Confirm(MethodView):
    @requires("merchant")
    @blp.arguments(PairSchema)
    @blp.response(200, ObligationSchema)
    def post(self, body, period):
        """Acknowledge a closed month's obligation with a partner (repeating it changes nothing)."""
        principal = current_principal()
        disputes.confirm(principal, period, body["partner_id"], body["currency"])
        view = statements.statement(principal, period)
        return next(o for o in view["obligations"] if o["partner"]["id"] == body["partner_id"]
                    and body["currency"] in (None, o["currency"]))


@blp.route("/settlements/<period:period>/disputes")
class Disputes(MethodView):
    @requires("merchant")
    @blp.arguments(DisputeCreateSchema)
    @blp.response(201, DisputeSchema)
    def post(self, body, period):
        """Dispute a closed month's obligation with a partner: the pair is held out of the transfers
        until the operator resolves it."""
        return disputes.open_dispute(current_principal(), period, body["partner_id"], body["currency"],
                                     body["reason"])

    @requires("merchant", "operator")
    @blp.response(200, DisputeListSchema)
    def get(self, period):
        """Disputes of a closed month: yours (merchant) or all (operator)."""
        return {"items": disputes.list_disputes(current_principal(), period)}


@blp.route("/settlements/<period:period>/disputes/<id:dispute_id>/resolve")
class Resolve(MethodView):
    @requires("operator")
    @blp.arguments(ResolveSchema)
    @blp.response(200, DisputeSchema)
    def post(self, body, period, dispute_id):
        """Operator: resolve a dispute. A correction is posted to the ledger as an adjustment in the
        next open month; the closed month's figures are never edited."""
        adjustment = body["adjustment"] or {"payer_id": None, "amount": 0}
        return disputes.resolve(current_principal(), period, dispute_id, body["resolution"],
                                adjustment["payer_id"], adjustment["amount"])


reports_blp = Blueprint("reports", __name__, url_prefix="/api/v1", description="How each partnership pays")


@reports_blp.route("/reports/partnerships")
class PartnershipReport(MethodView):
    @requires("merchant")
    @reports_blp.arguments(ReportQuerySchema, location="query")
    @reports_blp.response(200, PartnershipReportSchema)
    def get(self, query):
        """Per partner, for a month: the funnel of coupons each way (issued → viewed → redeemed →
        reversed), conversion, sales brought, commission each way, distinct customers exchanged."""
        return reports.partnership_report(current_principal(), query["period"])
