"""What a till scanned or a cashier typed, turned into a reference to a coupon (no database)."""

from __future__ import annotations

import re

from ..coupons import codes
from ..coupons.signing import read_token
from ..coupons.tokens import TokenRefused

_LINK = re.compile(r"^https?://[^/\s]+(?:/[^\s]*)?/[cC]/([A-Za-z0-9_\-.]+)/?$", re.IGNORECASE)


def token_or_code(payload: str) -> tuple[str, str]:
    """("token", jws) for a scanned link or bare token, ("code", normalized) for a typed code."""
    text = payload.strip()
    link = _LINK.match(text)
    if link:
        return "token", link.group(1)
    if text.count(".") == 2:
        return "token", text
    code = codes.normalize(text)
    if code:
        return "code", code
    raise TokenRefused("This is neither a coupon link, a coupon token nor a coupon code.",
                       code="malformed_payload")


def coupon_reference(payload: str) -> tuple[str, dict]:
    """How to find what the payload names: ("code", {code}), ("token", {coupon_id, token}) or
    ("pack", {pack_id, token}). A token's signature is checked here, before anything is looked up."""
    kind, value = token_or_code(payload)
    if kind == "code":
        return "code", {"code": value}
    typ, claims = read_token(value, allow_expired=True)
    if typ != "cpk":
        return "token", {"coupon_id": claims["c"], "token": value}
    return "pack", {"pack_id": claims["p"], "token": value}
