"""The OpenAPI document, completed: id converters and the errors every route can answer with."""

from __future__ import annotations

import http
import json

import marshmallow as ma
from apispec import BasePlugin
from flask_smorest import Api as _SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.utils import prepare_response
from werkzeug.routing import BaseConverter

from .fields import MAX_ID
from .problems import PROBLEM_JSON, ProblemSchema


class IdConverter(BaseConverter):
    """`<id:name>`: ASCII digits naming a database id (fullwidth or huge numbers are 404)."""

    regex = r"[0-9]{1,10}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            from werkzeug.routing import ValidationError

            raise ValidationError()
        return number

    def to_url(self, value) -> str:
        return str(int(value))


ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


class PeriodConverter(BaseConverter):
    """`<period:name>`: a month written YYYY-MM (anything else is 404; `2026-13` is 422)."""

    regex = r"[0-9]{4}-[0-9]{2}"


PERIOD_SCHEMA = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$", "example": "2026-10"}


class CommonErrorsPlugin(BasePlugin):
    """Document the refusals shared by whole classes of routes, once, here; and what client
    generators need of every operation: a unique `operationId` (the method and the view's
    name: `postCreateBatch`, `getStatementXlsx`) and `security` (`[]` on the public routes)."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        for method, operation in (operations or {}).items():
            if rule is not None:
                operation.setdefault("operationId", method + rule.endpoint.rsplit(".", 1)[-1])
            # Routes behind `requires` say who may call them; the rest are public, explicitly.
            operation.setdefault("security", [])
            responses = operation.setdefault("responses", {})
            if "{" in (path or ""):
                responses.setdefault("404", "NOT_FOUND")
            if "{period}" in (path or ""):
                # A month that does not exist or has not started (422); one not closed yet (409).
                responses.setdefault("409", "CONFLICT")
                responses.setdefault("422", "UNPROCESSABLE_ENTITY")
            if method in ("post", "patch", "put") and "requestBody" in operation:
                for status, name in (("400", "BAD_REQUEST"), ("413", "REQUEST_ENTITY_TOO_LARGE"),
                                     ("415", "UNSUPPORTED_MEDIA_TYPE"), ("422", "UNPROCESSABLE_ENTITY")):
                    responses.setdefault(status, name)


def register_openapi_extras(api) -> None:
    api.register_converter(IdConverter, lambda converter: dict(ID_SCHEMA))
    api.register_converter(PeriodConverter, lambda converter: dict(PERIOD_SCHEMA))


def file_response(content_type: str, description: str, extra: dict | None = None) -> dict:
    """`@blp.doc(**file_response(...))`: a 200 whose body is a file (CSV, PDF, XLSX, an image),
    documented with its media type (`@blp.response(200, content_type=…)` alone leaves the
    content out)."""
    textual = content_type.startswith("text/") or content_type.endswith("+xml")
    binary = {"type": "string"} if textual else {"type": "string", "format": "binary"}
    return {"responses": {"200": {"description": description, "content": {content_type: {"schema": binary}}},
                          **(extra or {})}}


def _one_schema_per_class(get_schema):
    """webargs makes a new instance of a route's argument schema class for every request
    (deep-copying each of its declared fields: a redemption spent more on that than on loading
    its body). Our schemas keep nothing between loads — no context, no state in their hooks — so
    one instance per class serves every request and thread."""
    instances: dict[type, ma.Schema] = {}

    def _get_schema(argmap, req):
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            if argmap not in instances:
                instances[argmap] = argmap()
            return instances[argmap]
        return get_schema(argmap, req)

    return _get_schema


class Api(_SmorestApi):
    """flask-smorest, documenting every error response as problem+json (SPEC §4.7)."""

    ERROR_SCHEMA = ProblemSchema

    def init_app(self, app, *args, **kwargs):
        # Query strings are held to the same rule as bodies: an unknown parameter (a misspelt
        # `?rolee=distributor`) is refused with 422, as the OpenAPI document says
        # (`additionalProperties: false`), instead of being silently ignored.
        parser = SmorestBlueprint.ARGUMENTS_PARSER
        parser.DEFAULT_UNKNOWN_BY_LOCATION = {**parser.DEFAULT_UNKNOWN_BY_LOCATION, "query": ma.RAISE}
        # JSON nested thousands deep (a few KB: `[[[[…`) makes the decoder recurse past Python's
        # limit; that is malformed input (400), not a server error. Routes hold this parser
        # instance since import, so the hook goes on the instance.
        if not getattr(parser, "_depth_guarded", False):
            raw_load_json = parser._raw_load_json

            def _raw_load_json(req):
                try:
                    return raw_load_json(req)
                except RecursionError:
                    raise json.JSONDecodeError("JSON nested too deeply", "[", 0) from None

            parser._raw_load_json, parser._depth_guarded = _raw_load_json, True
            parser._get_schema = _one_schema_per_class(parser._get_schema)
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
