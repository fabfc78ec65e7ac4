from __future__ import annotations

from flask import Response, send_file, stream_with_context
from flask.views import MethodView
from flask_smorest import Blueprint

from ..files.spreadsheets import XLSX_MIMETYPE
from ..http.auth import requires
from ..http.openapi import file_response
from . import services
from .schemas import AuditPageQuerySchema, AuditPageSchema, AuditQuerySchema

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="The audit trail (operator)")


@blp.route("/audit-events")
class AuditEvents(MethodView):
    @requires("operator")
    @blp.arguments(AuditPageQuerySchema, location="query")
    @blp.response(200, AuditPageSchema)
    def get(self, query):
        """Audit events, oldest first, optionally of one merchant and within `[from, to)`;
        `after` pages on."""
        return services.audit_page(query["merchant_id"], query["from_"], query["to"], query["after"],
                                   query["limit"])


@blp.route("/audit-events.csv")
class AuditCsv(MethodView):
    @requires("operator")
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, content_type="text/csv")
    @blp.doc(**file_response("text/csv", "every matching audit event, one per line"))
    def get(self, query):
        """The same events as CSV (all of them, streamed): UTF-8 with a BOM, CRLF, text cells
        never formulas; `data` as JSON."""
        lines = services.audit_csv(query["merchant_id"], query["from_"], query["to"])
        response = Response(stream_with_context(lines), mimetype="text/csv")
        filename = services.filename(query["merchant_id"], "csv")
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


@blp.route("/audit-events.xlsx")
class AuditXlsx(MethodView):
    @requires("operator")
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, content_type=XLSX_MIMETYPE)
    @blp.doc(**file_response(XLSX_MIMETYPE, "every matching audit event as an Excel workbook"))
    def get(self, query):
        """The same events as an Excel workbook: times as dates in the settlement timezone."""
        body = services.audit_xlsx(query["merchant_id"], query["from_"], query["to"])
        return send_file(body, mimetype=XLSX_MIMETYPE, as_attachment=True,
                         download_name=services.filename(query["merchant_id"], "xlsx"))
