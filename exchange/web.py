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

from .problems import problem
from .extensions import api, db

health = SmorestBlueprint("health", __name__, description="Service health")
docs_files = Blueprint("docs_files", __name__)


class HealthSchema(ma.Schema):
    status = ma.fields.String()


@health.route("/healthz")
class Health(MethodView):
    @health.response(200, HealthSchema)
    @health.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self):
        """Liveness and database reachability."""
        try:
            db.session.execute(text("SELECT 1"))
        except Exception:
            return problem(503, "database_unreachable", "Service unavailable",
                           "The database cannot be reached.")
        finally:
            db.session.rollback()
        return {"status": "ok"}


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
    if response.status_code not in (202, 429, 503):
        # The rate limiter adds it to every answer; it means "wait" only on a refusal or a
        # "not ready yet".
        headers.pop("Retry-After", None)
    if response.status_code == 204:
        headers.pop("Content-Type", None)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    if request.path.startswith("/api/"):
        headers.setdefault("Cache-Control", "no-store")
    return response


def register_hooks(app: Flask) -> None:
    """Before the rate limiter's hooks, so these run after it (Flask runs after_request hooks
    in reverse order) and see its headers."""
    app.before_request(_require_json_body)
    app.after_request(_security_headers)


def register_routes(app: Flask) -> None:
    api.register_blueprint(health)
    app.register_blueprint(docs_files)
