"""One error shape: every 4xx/5xx is RFC 9457 problem+json with a stable `code` (SPEC §4.7).

Services raise `DomainError` subclasses; HTTP-level failures (404, 405, 413, malformed JSON,
validation) arrive as werkzeug exceptions; anything else is a 500 that leaks nothing.
"""

from __future__ import annotations

import logging
import math
import time

import marshmallow as ma
from flask import Flask, Response, json
from werkzeug.exceptions import HTTPException

from ..errors import DomainError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("exchange.errors")


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, as this service sends them (documentation only).

    Extension members are allowed (RFC 9457 §3.2): some problems carry e.g. `current_status`.
    """

    class Meta:
        unknown = ma.INCLUDE

    type = ma.fields.String(metadata={"description": "URI naming the problem type"})
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    code = ma.fields.String(metadata={"description": "stable machine-readable code"})
    errors = ma.fields.Dict(metadata={"description": "per-field validation messages"})


def problem_document(status: int, code: str, title: str, detail: str | None = None, **extra) -> dict:
    return {
        "type": f"https://coupon-exchange.example/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail or title,
        "code": code,
        **extra,
    }


def problem_body(error: DomainError) -> dict:
    return problem_document(error.status, error.code, error.title, error.detail, **error.extra)


def problem(status: int, code: str, title: str, detail: str | None = None,
            headers: dict | None = None, retry_after: int | None = None, **extra) -> Response:
    """`retry_after`: this answer's wait, in seconds, sent as Retry-After."""
    body = problem_document(status, code, title, detail, **extra)
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


# werkzeug's exception names become stable codes.
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    428: "precondition_required",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def handle_domain_error(error: DomainError) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="exchange"'} if error.status == 401 else None
    return problem(error.status, error.code, error.title, error.detail, headers=headers,
                   retry_after=getattr(error, "retry_after", None), **error.extra)


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    code = _HTTP_CODES.get(status, "http_error")
    data = getattr(error, "data", None) or {}
    extra = {}
    detail = error.description
    messages = data.get("messages") or data.get("errors")
    if messages:
        fields = _field_errors(messages)
        if _is_json_decode_failure(fields.get("_schema", [])):
            return problem(400, "malformed_json", "Malformed JSON",
                           "The request body is not valid UTF-8 JSON.")
        extra["errors"] = fields
        detail = "The request did not validate: see `errors` for each field."
        code = "validation_failed"
    elif data.get("message"):
        detail = data["message"]
    headers = dict(data.get("headers") or {})
    if status == 429:
        headers.update(_retry_after(error))
        detail = "Too many requests; retry after the number of seconds in Retry-After."
    if status >= 500:
        detail = "Something went wrong on our side; the request had no effect. Retry later."
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return problem(status, code, error.name, detail, headers=headers, **extra)


def handle_unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    log.exception("unhandled error")
    return problem(500, "internal_error", "Internal server error",
                   "Something went wrong on our side; the request had no effect. Retry later.")


_LOCATIONS = {"json", "query", "headers", "form", "files", "view_args", "querystring"}


def _field_errors(messages) -> dict:
    """webargs nests messages by location ("json", "query"); clients want the fields."""
    if isinstance(messages, dict) and messages and set(messages) <= _LOCATIONS:
        groups = messages.values()
    else:
        groups = [messages]
    fields: dict = {}
    for group in groups:
        if isinstance(group, dict):
            fields.update(group)
        else:
            fields.setdefault("_schema", []).extend(group if isinstance(group, list) else [group])
    return fields


def _is_json_decode_failure(messages) -> bool:
    return any("Invalid JSON body" in str(m) for m in messages)


def _retry_after(error: HTTPException) -> dict:
    """Seconds until the breached limit's window resets (read from the store only now, on a
    refusal); its whole window when the store cannot say."""
    response = getattr(error, "response", None)
    if response is not None and response.headers.get("Retry-After"):
        return {"Retry-After": response.headers["Retry-After"]}
    from ..extensions import limiter

    breached, limit = limiter.current_limit, getattr(error, "limit", None)
    seconds = int(limit.limit.get_expiry()) if limit is not None else 60
    if breached is not None and breached.breached:
        try:
            seconds = min(seconds, max(1, math.ceil(breached.reset_at - time.time())))
        except Exception:  # the store went away meanwhile: the whole window is a safe wait
            log.warning("rate-limit store unreachable while refusing; Retry-After is the whole window")
    return {"Retry-After": str(seconds)}


def register_database_errors(app: Flask, database) -> None:
    """A database outage (see `exchange.db.outages`) is 503 with Retry-After, and this process's
    connections to `database` are dropped; any other database error is a bug (500)."""
    import sqlite3

    import psycopg
    from sqlalchemy import exc as sa_exc

    from ..db import outages

    def handle_database_error(error: Exception) -> Response:
        kind = outages.database_outage(error)
        if kind is None:
            return handle_unexpected(error)
        outages.note_failure(kind, error)
        database.drop_connections()
        return problem(503, kind, "Service Unavailable", outages.DETAIL[kind],
                       retry_after=outages.RETRY_AFTER_SECONDS)

    for error_class in (sa_exc.SQLAlchemyError, sqlite3.Error, psycopg.Error):
        app.register_error_handler(error_class, handle_database_error)


def register_error_handlers(app: Flask) -> None:
    from ..extensions import db

    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    register_database_errors(app, db)
    app.register_error_handler(Exception, handle_unexpected)
