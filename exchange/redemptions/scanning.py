"""What a till scanned or a cashier typed, turned into a coupon — pure parsing plus lookup."""

from __future__ import annotations

import re

from sqlalchemy import select

from ..coupons import codes
from ..coupons.models import Coupon, Pack
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


def find_coupon(payload: str, owner_id: int, *, lock: bool = False) -> Coupon:
    """The coupon the payload names; for a pack, its part redeemable at `owner_id`."""
    kind, value = token_or_code(payload)
    query = select(Coupon)
    if kind == "code":
        query = query.where(Coupon.code == value)
    else:
        typ, claims = read_token(value, allow_expired=True)
        if typ == "cpk":
            pack = db.session.get(Pack, claims["p"])
            if pack is None or pack.token != value:
                raise NotFound("No such coupon.", code="unknown_coupon")
            part = next((c for c in pack.coupons if c.offer.owner_id == owner_id), None)
            if part is None:
                raise DomainError("No coupon in this pack is accepted at this store.",
                                  code="not_accepted_here", status=403)
            query = query.where(Coupon.id == part.id)
        else:
            query = query.where(Coupon.id == claims["c"], Coupon.token == value)
    coupon = db.session.scalar(query.with_for_update() if lock else query)
    if coupon is None:
        raise NotFound("No such coupon.", code="unknown_coupon")
    return coupon
