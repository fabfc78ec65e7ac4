"""The app's extensions, created unbound; `create_app()` binds them."""

from __future__ import annotations

from flask_limiter.util import get_remote_address

from .db.database import Database
from .http.openapi import Api, CommonErrorsPlugin
from .http.ratelimit_store import Limiter


def _rate_limit_key() -> str:
    return get_remote_address() or "unknown"


db = Database()
api = Api(spec_kwargs={"extra_plugins": [CommonErrorsPlugin()]})
# No X-RateLimit-* headers: on a shared store (Redis) they cost every limited request two more
# round trips after its hits (GET and TTL of the window). A refusal's Retry-After is worked out
# from the breached limit alone (`exchange.http.problems`).
limiter = Limiter(key_func=_rate_limit_key, headers_enabled=False)
