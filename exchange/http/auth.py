"""Who is calling, and may they touch this route — the one auth check.

Keys are `mk_<id>_<secret>` (merchant), `tk_<id>_<secret>` (a store's terminal) and the
operator key from configuration. 401 means "we do not know you" (missing, malformed, unknown or
revoked key); 403 means "we know you, and this is not yours to do". An address that failed too
often is refused with 429 before its key is looked at (`ratelimits.refuse_throttled_address`).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from copy import deepcopy
from dataclasses import dataclass

from flask import current_app, g, request
from sqlalchemy import bindparam, select

from ..db.statements import Compiled
from ..errors import Forbidden, Unauthorized
from ..extensions import db
from .ratelimits import count_failed_authentication, refuse_throttled_address

KEY_PREFIX = {"merchant": "mk", "terminal": "tk"}
_KEY_RE = re.compile(r"^(mk|tk)_([1-9][0-9]{0,17})_([A-Za-z0-9_-]{43})$")
BEARER = [{"bearer": []}]


@dataclass(frozen=True, slots=True)
class Principal:
    kind: str  # "merchant" | "terminal" | "operator"
    merchant_id: int | None = None
    store_id: int | None = None
    key_id: int | None = None

    @property
    def actor(self) -> str:
        if self.kind == "operator":
            return "operator"
        return f"{self.kind}:{self.key_id}"


def new_secret() -> tuple[str, str]:
    """A fresh 256-bit secret and the hash that is stored in its place."""
    secret = secrets.token_urlsafe(32)
    return secret, hash_secret(secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def format_key(kind: str, key_id: int, secret: str) -> str:
    return f"{KEY_PREFIX[kind]}_{key_id}_{secret}"


@functools.cache
def _key_query():
    from ..merchants.models import ApiKey, Merchant

    return Compiled(select(ApiKey.kind, ApiKey.merchant_id, ApiKey.store_id, ApiKey.secret_hash,
                           ApiKey.revoked_at, Merchant.status).join(Merchant, Merchant.id == ApiKey.merchant_id)
                    .where(ApiKey.id == bindparam("key_id")))


def _principal_from_key(token: str) -> Principal:
    match = _KEY_RE.match(token)
    if not match:
        raise Unauthorized("The API key is malformed.", code="invalid_key")
    prefix, key_id, secret = match.groups()
    row = _key_query().first(db.session, {"key_id": int(key_id)})
    expected = row.secret_hash if row else hash_secret("no such key")
    # Compare even when the key does not exist, so timing does not reveal which ids exist.
    matches = hmac.compare_digest(expected, hash_secret(secret))
    if not row or not matches or KEY_PREFIX[row.kind] != prefix or row.revoked_at:
        raise Unauthorized("The API key is unknown or has been revoked.", code="invalid_key")
    if row.status != "active":
        raise Forbidden("This merchant is suspended; contact the exchange operator.",
                        code="merchant_suspended")
    return Principal(kind=row.kind, merchant_id=row.merchant_id, store_id=row.store_id, key_id=int(key_id))


def authenticate() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise Unauthorized("Send `Authorization: Bearer <key>`.", code="missing_key")
    refuse_throttled_address()
    try:
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Use the Bearer scheme: `Authorization: Bearer <key>`.", code="invalid_key")
        token = token.strip()
        operator_key = current_app.config.get("OPERATOR_KEY")
        if operator_key and hmac.compare_digest(token.encode(), operator_key.encode()):
            return Principal(kind="operator")
        return _principal_from_key(token)
    except Unauthorized:
        # A key was sent and it is not one of ours (a wrong operator key included).
        count_failed_authentication()
        raise


def requires(*kinds: str):
    """Route decorator: authenticate, then allow only the given principal kinds."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            principal = authenticate()
            g.principal = principal
            if principal.kind not in kinds:
                raise Forbidden(f"This route does not accept {principal.kind} keys.",
                                code="wrong_key_kind")
            return view(*args, **kwargs)

        doc = deepcopy(getattr(view, "_apidoc", {}))
        responses = doc.setdefault("response", {}).setdefault("responses", {})
        responses.setdefault(401, []).append("UNAUTHORIZED")
        responses.setdefault(403, []).append("FORBIDDEN")
        responses.setdefault(429, []).append("TOO_MANY_REQUESTS")
        # Who may call it, for clients and for the security matrix that probes every route.
        doc["manual_doc"] = {**doc.get("manual_doc", {}), "security": BEARER, "x-key-kinds": list(kinds)}
        wrapper._apidoc = doc
        return wrapper

    return decorator


def current_principal() -> Principal:
    return g.principal
