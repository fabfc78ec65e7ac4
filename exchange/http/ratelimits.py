"""Rate limits on the routes a stranger or a runaway script could hammer (SPEC §5: `rate_limited`).

Registration is limited per client address; verifying and redeeming per API key *and* per
address (`money_path`); failed authentications per address (`refuse_throttled_address`). Limits are read from
configuration on each request (`"off"` switches one off), and counted in
`RATELIMIT_STORAGE_URI`: in memory per worker by default, in Redis (`EXCHANGE_REDIS_URL`) when
several workers or servers must share one count — and in memory again while Redis is away
(`exchange.http.ratelimit_store`).
"""

from __future__ import annotations

import functools
import hashlib
import math
import time

from flask import Flask, current_app, g, request
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse
from limits.storage import RedisStorage
from limits.strategies import FixedWindowRateLimiter, RateLimiter
from redis.exceptions import NoScriptError

from ..errors import TooManyRequests
from ..extensions import limiter
from .ratelimit_store import storage_options

AUTH_FAILURES = "auth-failures"


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", storage_options(app.config["RATELIMIT_STORAGE_URI"]))
    limiter.init_app(app)


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


def per_key(setting: str, methods=("POST",)) -> list:
    return [_unless_off((setting,), [_configured(setting, api_key_bucket, list(methods))])]


def per_address(setting: str, methods=("POST",)) -> list:
    return [_unless_off((setting,), [_configured(setting, client_address, list(methods))])]


def money_path(setting_per_key: str, setting_per_address: str, methods=("POST",)) -> list:
    """MethodView `decorators` for verify and redeem: limited per API key and per address, with
    the address's failed authentications read in the same go — in Redis one round trip for all
    three instead of one each, on every redemption (`_count_together`). Both limits are counted
    even when the first refuses (Flask-Limiter's decorators stop at the first); a refusal is 429
    `rate_limited`, Retry-After the seconds left in the breached window."""

    def decorator(view):
        @functools.wraps(view)
        def limited(*args, **kwargs):
            if request.method in methods:
                _count_money_path(setting_per_key, setting_per_address)
            return view(*args, **kwargs)

        return limited

    return [decorator]


def _count_money_path(setting_per_key: str, setting_per_address: str) -> None:
    config, scope, address = current_app.config, request.endpoint, client_address()
    hits = [(_parsed(config[setting]), (scope, bucket))
            for setting, bucket in ((setting_per_key, api_key_bucket()), (setting_per_address, address))
            if config[setting] != "off"]
    throttle = _auth_failure_limit()
    peek = (throttle, (AUTH_FAILURES, address)) if throttle is not None else None
    if not hits and peek is None:
        return
    allowed, not_throttled = limiter.count(lambda strategy: _count_together(strategy, hits, peek))
    if peek is not None:
        g.address_not_throttled = not_throttled  # read by `refuse_throttled_address`
    for (item, identifiers), ok in zip(hits, allowed, strict=True):
        if not ok:
            raise TooManyRequests("Too many requests; retry after the number of seconds in Retry-After.",
                                  retry_after=_seconds_left(item, *identifiers))


def _count_together(strategy: RateLimiter, hits: list, peek) -> tuple[list[bool], bool | None]:
    """Hit each of `hits` and test `peek` (each a limit and its identifiers): whether each hit
    stayed within its limit, and whether `peek`'s is not used up. The limits library's fixed
    window in Redis, with the library's own keys and increment script (`incr_expire.lua`), sent
    in one pipeline; any other store or strategy, one call each."""
    storage = strategy.storage
    if not (isinstance(strategy, FixedWindowRateLimiter) and isinstance(storage, RedisStorage)):
        return ([strategy.hit(item, *ids) for item, ids in hits],
                None if peek is None else strategy.test(peek[0], *peek[1]))
    script = storage.lua_incr_expire
    pipe = storage.get_connection().pipeline(transaction=False)
    for item, ids in hits:
        pipe.evalsha(script.sha, 1, storage.prefixed_key(item.key_for(*ids)), item.get_expiry(), 1)
    if peek is not None:
        pipe.get(storage.prefixed_key(peek[0].key_for(*peek[1])))
    answers = pipe.execute(raise_on_error=False)
    counts = []
    for (item, ids), answer in zip(hits, answers, strict=False):
        if isinstance(answer, NoScriptError):
            # A Redis that has not run the script yet (just started, or flushed): the library's
            # own call loads it.
            answer = storage.incr(item.key_for(*ids), item.get_expiry())
        elif isinstance(answer, Exception):
            raise answer
        counts.append(int(answer))
    if peek is not None and isinstance(answers[-1], Exception):
        raise answers[-1]
    allowed = [count <= item.amount for count, (item, _) in zip(counts, hits, strict=True)]
    return allowed, None if peek is None else int(answers[-1] or 0) < peek[0].amount


def _unless_off(settings: tuple[str, ...], limits: list):
    """Apply `limits` to a view, and skip them altogether while all `settings` are "off": the
    limiter's own check costs a request time even when it limits nothing."""

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


@functools.lru_cache(maxsize=16)
def _parsed(value: str) -> RateLimitItem:
    return parse(value)


def _auth_failure_limit() -> RateLimitItem | None:
    value = current_app.config["AUTH_FAILURE_RATE_LIMIT"]
    return None if value == "off" else _parsed(value)


def refuse_throttled_address() -> None:
    """Before any key is checked: an address past its budget of failed authentications is
    refused whatever it sends, a correct key included, so that guessing from it gains nothing.
    Only the address is counted, never the key: failing on purpose from elsewhere cannot lock
    a real till out, and other addresses are unaffected."""
    limit = _auth_failure_limit()
    if limit is None:
        return
    address = client_address()
    not_throttled = g.pop("address_not_throttled", None)  # read with the route's limits (`money_path`)
    if not_throttled is None:
        not_throttled = limiter.count(lambda strategy: strategy.test(limit, AUTH_FAILURES, address))
    if not_throttled:
        return
    raise TooManyRequests("Too many failed authentications from this address; retry after the "
                          "number of seconds in Retry-After.", code="authentication_throttled",
                          retry_after=_seconds_left(limit, AUTH_FAILURES, address))


def _seconds_left(limit: RateLimitItem, *identifiers: str) -> int:
    """Seconds until a used-up window resets (asked of the store only on a refusal). The windows
    run on real time (the limits library's, as Flask-Limiter's own Retry-After does), not on the
    sandbox clock."""
    reset_at = limiter.count(lambda strategy: strategy.get_window_stats(limit, *identifiers).reset_time)
    return max(1, math.ceil(reset_at - time.time()))


def count_failed_authentication() -> None:
    limit = _auth_failure_limit()
    if limit is not None:
        address = client_address()
        limiter.count(lambda strategy: strategy.hit(limit, AUTH_FAILURES, address))
