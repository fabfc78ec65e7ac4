"""Rate limits on the routes a stranger or a runaway script could hammer (SPEC §5: `rate_limited`).

Registration is limited per client address; verifying and redeeming per API key *and* per
address. Limits are read from configuration on each request (`"off"` switches one off), and
counted in `RATELIMIT_STORAGE_URI`: in memory per worker by default, in Redis
(`EXCHANGE_REDIS_URL`) when several workers or servers must share one count.
"""

from __future__ import annotations

import functools
import hashlib

from flask import current_app, request
from flask_limiter.util import get_remote_address

from .extensions import limiter


def client_address() -> str:
    return "ip:" + (get_remote_address() or "unknown")


def api_key_bucket() -> str:
    """A digest of the whole bearer token: a wrong secret sent with a real key's id counts
    against a bucket of its own, so nobody can use up a till's budget by guessing at it."""
    token = request.headers.get("Authorization", "").partition(" ")[2].strip()
    if not token:
        return "anonymous-" + client_address()
    return "key:" + hashlib.sha256(token.encode()).hexdigest()[:32]


def _configured(setting: str, key_func, methods: list[str]):
    return limiter.limit(lambda: current_app.config[setting], key_func=key_func, methods=methods,
                         exempt_when=lambda: current_app.config[setting] == "off")


def per_key_and_address(setting_per_key: str, setting_per_address: str, methods=("POST",)) -> list:
    """MethodView `decorators` limiting by API key and by client address."""
    return [_unless_off((setting_per_key, setting_per_address),
                        [_configured(setting_per_key, api_key_bucket, list(methods)),
                         _configured(setting_per_address, client_address, list(methods))])]


def per_key(setting: str, methods=("POST",)) -> list:
    return [_unless_off((setting,), [_configured(setting, api_key_bucket, list(methods))])]


def per_address(setting: str, methods=("POST",)) -> list:
    return [_unless_off((setting,), [_configured(setting, client_address, list(methods))])]


def _unless_off(settings: tuple[str, ...], limits: list):
    """Apply `limits` to a view, and skip them altogether while all `settings` are "off": the
    limiter's own check costs a redemption some 5% of its time even when it limits nothing."""

    def decorator(view):
        limited = view
        for limit in limits:
            limited = limit(limited)

        @functools.wraps(view)
        def either(*args, **kwargs):
            if all(current_app.config[setting] == "off" for setting in settings):
                return view(*args, **kwargs)
            return limited(*args, **kwargs)

        return either

    return decorator
