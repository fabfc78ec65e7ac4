"""HTTP rules every route shares: JSON bodies only, security headers, health check."""

from __future__ import annotations

from flask import Blueprint, Flask, request, send_from_directory
from sqlalchemy import text
from swagger_ui_bundle import swagger_ui_path

from .errors import problem
from .extensions import db

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz():
    """Liveness and database reachability."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        return problem(503, "database_unreachable", "Service unavailable",
                       "The database cannot be reached.")
    finally:
        db.session.rollback()
    return {"status": "ok"}


@health.get("/docs/static/<path:filename>")
def swagger_static(filename):
    """Swagger UI's files, served locally so the docs work without a CDN."""
    return send_from_directory(swagger_ui_path, filename, max_age=86400)


def _require_json_body():
    if request.method in ("POST", "PUT", "PATCH") and _has_body() and not request.is_json:
        return problem(415, "unsupported_media_type", "Unsupported Media Type",
                       "Send the body as JSON with `Content-Type: application/json`.")
    return None


def _has_body() -> bool:
    return bool(request.content_length) or request.headers.get("Transfer-Encoding") == "chunked"


def _security_headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    if request.path.startswith("/api/"):
        headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    app.before_request(_require_json_body)
    app.after_request(_security_headers)
    app.register_blueprint(health)
