"""Extensions, created unbound; `create_app()` binds them."""

from __future__ import annotations

import http

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_smorest import Api as _SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.utils import prepare_response
import marshmallow as ma
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import scoped_session, sessionmaker

from .openapi import CommonErrorsPlugin
from .problems import PROBLEM_JSON, ProblemSchema


class Database:
    """One engine and one request-scoped session for the whole app.

    SQLite is put in WAL mode with foreign keys on, and the driver's own transaction handling is
    switched off so that SQLAlchemy emits BEGIN itself: that makes SAVEPOINT work (tests) and
    lets a write transaction ask for `BEGIN IMMEDIATE` (see `write_transaction`).
    """

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.session = scoped_session(sessionmaker(expire_on_commit=False))

    def init_app(self, app: Flask) -> None:
        self.engine = make_engine(app.config["DATABASE_URL"])
        self.session.remove()
        self.session.configure(bind=self.engine)
        app.teardown_appcontext(lambda exc: self.session.remove())


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # 64 MiB of page cache (the default is 2 MiB): unique-code and foreign-key indexes of
        # large coupon tables stay in memory.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A deferred transaction that later writes fails with "database is locked" under
        # concurrency in WAL mode; writers ask for IMMEDIATE up front.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


class Api(_SmorestApi):
    """flask-smorest, documenting every error response as problem+json (SPEC §4.7)."""

    ERROR_SCHEMA = ProblemSchema

    def init_app(self, app, *args, **kwargs):
        # Query strings are held to the same rule as bodies: an unknown parameter (a misspelt
        # `?rolee=distributor`) is refused with 422, as the OpenAPI document says
        # (`additionalProperties: false`), instead of being silently ignored.
        parser = SmorestBlueprint.ARGUMENTS_PARSER
        parser.DEFAULT_UNKNOWN_BY_LOCATION = {**parser.DEFAULT_UNKNOWN_BY_LOCATION, "query": ma.RAISE}
        super().init_app(app, *args, **kwargs)

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            content_type = self.DEFAULT_RESPONSE_CONTENT_TYPE
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                content_type = PROBLEM_JSON
            prepare_response(response, self.spec, content_type)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error (RFC 9457 problem details)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def _rate_limit_key() -> str:
    return get_remote_address() or "unknown"


db = Database()
api = Api(spec_kwargs={"extra_plugins": [CommonErrorsPlugin()]})
limiter = Limiter(key_func=_rate_limit_key, headers_enabled=True)
