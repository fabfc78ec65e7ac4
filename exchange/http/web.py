"""HTTP rules every route shares: JSON bodies only, security headers, health check."""

from __future__ import annotations

import io

import marshmallow as ma
from flask import Blueprint, Flask, current_app, request, send_from_directory
from flask.views import MethodView
from flask_smorest import Blueprint as SmorestBlueprint
from sqlalchemy import text
from swagger_ui_bundle import swagger_ui_path
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from ..db import outages
from ..extensions import api, db, limiter
from .problems import problem

health = SmorestBlueprint("health", __name__, description="Service health")
docs_files = Blueprint("docs_files", __name__)


class HealthSchema(ma.Schema):
    """What the worker that answers knows. It runs one `SELECT 1` and reads flags that failures
    set and successes clear (docs/operations.md): no other query, no write."""

    status = ma.fields.String(validate=ma.validate.OneOf(["ok", "degraded"]), metadata={
        "description": "`ok`: everything as configured; `degraded`: serving, but `database` or "
                       "`rate_limits` below says what is not as it should be"})
    database = ma.fields.String(validate=ma.validate.OneOf(["writable", "not_writable"]), metadata={
        "description": "`not_writable`: this worker's last write failed because the database could "
                       "not be written (read-only files, a full disk, a standby); writes answer 503 "
                       "`database_not_writable` until one succeeds. A database that cannot be "
                       "reached at all makes this answer a 503 `database_unavailable` instead"})
    rate_limits = ma.fields.String(validate=ma.validate.OneOf(["shared", "per_process", "fallback"]), metadata={
        "description": "`shared`: counted in Redis for every worker and server; `per_process`: no Redis "
                       "configured, each worker counts its own; `fallback`: Redis is configured but "
                       "unreachable, each worker counts its own until it is back (a limit of N then "
                       "lets through up to N per worker)"})


def _rate_limit_state() -> str:
    if not current_app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"]:
        return "per_process"
    return "fallback" if limiter.degraded else "shared"


@health.route("/healthz")
class Health(MethodView):
    @health.response(200, HealthSchema)
    @health.alt_response(503, response="SERVICE_UNAVAILABLE", description="database_unavailable")
    def get(self):
        """Liveness, database reachability and writability, and where rate limits are counted."""
        try:
            db.session.execute(text("SELECT 1"))
            db.session.rollback()
        except Exception as error:
            outages.note_failure(outages.UNAVAILABLE, error)
            db.drop_connections()
            return problem(503, outages.UNAVAILABLE, "Service Unavailable", outages.DETAIL[outages.UNAVAILABLE],
                           retry_after=outages.RETRY_AFTER_SECONDS)
        outages.note_connected()
        state = {"database": "writable" if outages.seen.writable else "not_writable",
                 "rate_limits": _rate_limit_state()}
        degraded = state["database"] != "writable" or state["rate_limits"] == "fallback"
        return {"status": "degraded" if degraded else "ok", **state}


@docs_files.get("/docs/static/<path:filename>")
def swagger_static(filename):
    """Swagger UI's files, served locally so the docs work without a CDN."""
    return send_from_directory(swagger_ui_path, filename, max_age=86400)


def _require_json_body():
    if request.method in ("POST", "PUT", "PATCH") and _has_body() and not request.is_json:
        return problem(415, "unsupported_media_type", "Unsupported Media Type",
                       "Send the body as JSON with `Content-Type: application/json`.")
    if _is_chunked():
        _buffer_chunked_body()
    return None


def _is_chunked() -> bool:
    return "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def _has_body() -> bool:
    return bool(request.content_length) or _is_chunked()


def _buffer_chunked_body() -> None:
    """A chunked body has no Content-Length, and werkzeug would silently cut it at the limit:
    read it here, refuse it whole with 413 if too large, else hand it on with its length."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    body = request.environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        raise RequestEntityTooLarge()
    request.environ["wsgi.input"] = io.BytesIO(body)
    request.environ["CONTENT_LENGTH"] = str(len(body))
    request.environ.pop("HTTP_TRANSFER_ENCODING", None)


def _security_headers(response):
    headers = response.headers
    if response.status_code == 204:
        headers.pop("Content-Type", None)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    if request.path.startswith("/api/"):
        headers.setdefault("Cache-Control", "no-store")
    return response


def trust_proxies(app: Flask) -> None:
    """Behind `EXCHANGE_PROXY_HOPS` proxies (a load balancer), the client's address is the one
    they put in X-Forwarded-For. Per-address limits — failed authentications above all — would
    otherwise count the whole world as one client, and one guesser could lock every till out."""
    hops = app.config["PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=0, x_host=0)


def register_hooks(app: Flask) -> None:
    """Before the rate limiter's hooks, so these run after it (Flask runs after_request hooks
    in reverse order) and see its headers."""
    app.before_request(_require_json_body)
    app.after_request(_security_headers)


def register_routes(app: Flask) -> None:
    api.register_blueprint(health)
    app.register_blueprint(docs_files)
