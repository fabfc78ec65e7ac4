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
limiter = Limiter(key_func=_rate_limit_key, headers_enabled=True)
