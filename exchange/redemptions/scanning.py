"""What a till scanned or a cashier typed, turned into a coupon — pure parsing plus lookup."""

from __future__ import annotations

import re

from ..coupons import codes
from ..coupons.models import Pack
from ..coupons.signing import read_token
from ..coupons.tokens import TokenRefused
from ..errors import DomainError, NotFound
from ..extensions import db

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


def coupon_reference(payload: str, owner_id: int) -> tuple[str, dict]:
    """How to find the coupon the payload names: ("code", {code}), ("token", {coupon_id,
    token}) or, for the part of a pack redeemable at `owner_id`, ("id", {coupon_id}). A token's
    signature is checked before anything is looked up."""
    kind, value = token_or_code(payload)
    if kind == "code":
        return "code", {"code": value}
    typ, claims = read_token(value, allow_expired=True)
    if typ != "cpk":
        return "token", {"coupon_id": claims["c"], "token": value}
    pack = db.session.get(Pack, claims["p"])
    if pack is None or pack.token != value:
        raise NotFound("No such coupon.", code="unknown_coupon")
    part = next((c for c in pack.coupons if c.offer.owner_id == owner_id), None)
    if part is None:
        raise DomainError("No coupon in this pack is accepted at this store.",
                          code="not_accepted_here", status=403)
    return "id", {"coupon_id": part.id}
