from __future__ import annotations

from flask import Response, jsonify, redirect, send_file, stream_with_context, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from ..files.spreadsheets import XLSX_MIMETYPE
from ..http.auth import current_principal, requires
from ..http.openapi import file_response
from ..http.routing import add_view
from . import batches, exports, issuing, sheets, views
from .images import MIMETYPES, qr_response
from .schemas import (
    BatchCreateSchema,
    BatchSchema,
    CouponPageSchema,
    CouponQuerySchema,
    CouponSchema,
    IssuedCouponListSchema,
    IssueSchema,
    PackCreateSchema,
    PackSchema,
    SheetsSchema,
)

blp = Blueprint("coupons", __name__, url_prefix="/api/v1",
                description="Coupons: issue, batch, print, pack, look up")


@blp.route("/offers/<id:offer_id>/coupons")
class IssueCoupons(MethodView):
    @requires("merchant")
    @blp.arguments(IssueSchema)
    @blp.response(201, IssuedCouponListSchema)
    def post(self, body, offer_id):
        """Distributor: issue 1–1,000 signed coupons of a partner's offer, e.g. to print on a
        receipt. Each comes with its token, landing page and QR image links."""
        rows = issuing.issue_coupons(current_principal(), offer_id, body["count"], body["customer_ref"])
        return {"items": [{**row, **views.links(row["token"])} for row in rows]}


BATCH_ACCEPTED_HEADERS = {
    "Location": {"description": "the batch, to poll", "schema": {"type": "string"}},
    "Retry-After": {"description": "seconds until the batch is likely done", "schema": {"type": "integer"}}}


@blp.route("/offers/<id:offer_id>/coupon-batches")
class CreateBatch(MethodView):
    @requires("merchant")
    @blp.arguments(BatchCreateSchema)
    @blp.response(202, BatchSchema, headers=BATCH_ACCEPTED_HEADERS)
    def post(self, body, offer_id):
        """Distributor: issue up to 100,000 coupons in the background; poll the batch (`Location`)
        for progress."""
        batch = batches.create_batch(current_principal(), offer_id, body["count"])
        return batch, 202, {"Location": url_for("coupons.BatchView", batch_id=batch.id),
                            "Retry-After": str(batches.expected_seconds(batch.requested))}


@blp.route("/coupon-batches/<id:batch_id>")
class BatchView(MethodView):
    @requires("merchant")
    @blp.response(200, BatchSchema)
    def get(self, batch_id):
        """A batch you asked for, with its progress."""
        return batches.own_batch(current_principal(), batch_id)


@blp.route("/coupon-batches/<id:batch_id>/export.csv")
class BatchCsv(MethodView):
    @requires("merchant")
    @blp.response(200, content_type="text/csv")
    @blp.doc(**file_response("text/csv", "code, link, expiry and uses of each coupon issued so far"))
    def get(self, batch_id):
        """The batch's coupons as CSV: code, link, expiry, uses (what has been issued so far).
        UTF-8 with a BOM, CRLF line ends."""
        batch = batches.own_batch(current_principal(), batch_id)
        response = Response(stream_with_context(exports.batch_csv(batch)), mimetype="text/csv")
        response.headers["Content-Disposition"] = f'attachment; filename="coupon-batch-{batch.id}.csv"'
        return response


@blp.route("/coupon-batches/<id:batch_id>/export.xlsx")
class BatchXlsx(MethodView):
    @requires("merchant")
    @blp.response(200, content_type=XLSX_MIMETYPE)
    @blp.doc(**file_response(XLSX_MIMETYPE, "the same table as the CSV, as an Excel workbook"))
    def get(self, batch_id):
        """The batch's coupons as an Excel workbook: expiry as a date in the settlement timezone."""
        batch = batches.own_batch(current_principal(), batch_id)
        return send_file(exports.batch_xlsx(batch), mimetype=XLSX_MIMETYPE, as_attachment=True,
                         download_name=f"coupon-batch-{batch.id}.xlsx")


PREPARING_HEADERS = {"Retry-After": {"description": "seconds to wait before asking again",
                                     "schema": {"type": "integer"}}}


def _preparing(batch, what: str) -> Response:
    response = jsonify({"status": "preparing", "detail": f"The {batch.issued:,} coupons are being laid out for "
                        f"printing; ask for {what} again in a minute."})
    response.status_code, response.headers["Retry-After"] = 202, "30"
    return response


@blp.route("/coupon-batches/<id:batch_id>/sheet.pdf")
class BatchSheet(MethodView):
    @requires("merchant")
    @blp.response(200, content_type="application/pdf")
    @blp.doc(**file_response("application/pdf", "the printable sheet"))
    @blp.alt_response(202, description="being drawn: ask again after Retry-After", headers=PREPARING_HEADERS)
    @blp.alt_response(303, description="a batch of more than one part: its sheets as one ZIP (`Location`)")
    def get(self, batch_id):
        """The batch as a printable A4 PDF: 12 coupons a page, each with its QR code and manual
        code, the offer's title, value, the stores that accept it and its expiry. A batch of more
        than one part (1,200 coupons) is printed in parts: this answers 303 to `sheets.zip`."""
        batch = batches.own_batch(current_principal(), batch_id)
        sheet = sheets.sheet_of(batch)
        if sheet is None:
            return _preparing(batch, "the sheet")
        if sheet.in_parts:
            return redirect(url_for("coupons.BatchSheetsZip", batch_id=batch.id), 303)
        return send_file(sheet.data, mimetype="application/pdf", as_attachment=True, download_name=sheet.filename)


@blp.route("/coupon-batches/<id:batch_id>/sheets")
class BatchSheets(MethodView):
    @requires("merchant")
    @blp.response(200, SheetsSchema)
    def get(self, batch_id):
        """The batch's printable sheets as parts of up to 1,200 coupons (100 A4 pages), each its own
        PDF: asked for the first time, they are drawn in the background; poll until `ready`."""
        return sheets.sheets_of(batches.own_batch(current_principal(), batch_id))


@blp.route("/coupon-batches/<id:batch_id>/sheets/<id:number>.pdf")
class BatchSheetPart(MethodView):
    @requires("merchant")
    @blp.response(200, content_type="application/pdf")
    @blp.doc(**file_response("application/pdf", "one part of the printable sheets"))
    @blp.alt_response(202, description="being drawn: ask again after Retry-After", headers=PREPARING_HEADERS)
    def get(self, batch_id, number):
        """One part of the batch's printable sheets (its coupons in id order), as a PDF."""
        batch = batches.own_batch(current_principal(), batch_id)
        pdf = sheets.part_pdf(batch, number)
        if pdf is None:
            return _preparing(batch, "this part")
        response = Response(pdf, mimetype="application/pdf")
        response.headers["Content-Disposition"] = f'attachment; filename="{sheets.part_filename(batch.id, number)}"'
        return response


@blp.route("/coupon-batches/<id:batch_id>/sheets.zip")
class BatchSheetsZip(MethodView):
    @requires("merchant")
    @blp.response(200, content_type="application/zip")
    @blp.doc(**file_response("application/zip", "every part's PDF, streamed"))
    @blp.alt_response(202, description="being drawn: ask again after Retry-After", headers=PREPARING_HEADERS)
    def get(self, batch_id):
        """Every part of the batch's printable sheets in one ZIP, sent as it is written."""
        batch = batches.own_batch(current_principal(), batch_id)
        chunks = sheets.zip_of(batch)
        if chunks is None:
            return _preparing(batch, "the ZIP")
        response = Response(stream_with_context(chunks), mimetype="application/zip")
        response.headers["Content-Disposition"] = f'attachment; filename="coupon-batch-{batch.id}-sheets.zip"'
        return response


@blp.route("/packs")
class Packs(MethodView):
    @requires("merchant")
    @blp.arguments(PackCreateSchema)
    @blp.response(201, PackSchema)
    def post(self, body):
        """Distributor: one QR holding a coupon of each of several partners' offers; each part is
        redeemed at its own partner."""
        principal = current_principal()
        pack = issuing.issue_pack(principal, body["offer_ids"], body["customer_ref"])
        return {"id": pack.id, "token": pack.token, "expires_at": pack.expires_at,
                **views.links(pack.token),
                "parts": [views.merchant_view(principal, c) for c in pack.coupons]}


@blp.route("/coupons")
class Coupons(MethodView):
    @requires("merchant")
    @blp.arguments(CouponQuerySchema, location="query")
    @blp.response(200, CouponPageSchema)
    def get(self, query):
        """Coupons you handed out, and coupons of your offers, oldest first (`after` pages on)."""
        principal = current_principal()
        page = views.list_coupons(principal, query["offer_id"], query["after"], query["limit"])
        return {"items": [views.merchant_view(principal, c) for c in page],
                "next_after": page[-1].id if len(page) == query["limit"] else None}


@blp.route("/coupons/<string:code>")
class CouponView(MethodView):
    @requires("merchant")
    @blp.response(200, CouponSchema)
    def get(self, code):
        """A coupon you handed out, or one of your offer's (by its manual code)."""
        principal = current_principal()
        return views.merchant_view(principal, views.visible_coupon(principal, code))


def _image_route(fmt: str) -> None:
    @requires("merchant")
    @blp.response(200, content_type=MIMETYPES[fmt])
    @blp.doc(**file_response(MIMETYPES[fmt], "the QR code (304 when If-None-Match matches)"))
    def get(self, code):
        return qr_response(views.visible_coupon(current_principal(), code).token, fmt)

    add_view(blp, f"/coupons/<string:code>/qr.{fmt}", f"CouponQr{fmt.title()}", get,
             f"The coupon's QR code as {fmt.upper()} (cacheable; revalidate with If-None-Match).", "get")


_image_route("png")
_image_route("svg")
