"""Signed coupon tokens: compact JWS (EdDSA / Ed25519), pure.

A token carries only what never goes stale: which coupon (`c`) or pack (`p`), and until when
(`exp`). The offer, names and amounts are looked up by coupon id at redemption, so nothing in
a printed coupon can be stale. The header names the key (`kid`) and the token's type (`typ`),
so a till can verify it offline against `/.well-known/jwks.json` with any JOSE library, and a
token of one kind cannot pass as another (RFC 8725 §3.11).

Every byte counts: the QR code holds `EXCHANGE_PUBLIC_URL/c/<token>`, the Ed25519 signature
alone is 86 characters, and a receipt-sized QR (version 10 at error correction M) holds 213
bytes. With one-letter claims a coupon link fits for 8-digit coupon ids and public URLs of up
to about 40 characters; an offer-id claim would push it to version 11 for most deployments.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

import jwt
from jwt.exceptions import DecodeError, InvalidSignatureError, InvalidTokenError

from ..errors import DomainError
from ..http.fields import MAX_ID

ALGORITHM = "EdDSA"
COUPON_TYP = "cpn"
PACK_TYP = "cpk"
MAX_TOKEN_LENGTH = 1024


class TokenRefused(DomainError):
    status, code, title = 400, "invalid_signature", "Not a valid coupon"


class UnknownKey(TokenRefused):
    """Signed with a key id the given keys do not hold (perhaps one rotated in since)."""


_JWS = jwt.PyJWS()


def sign(claims: dict, *, kid: str, private_key, typ: str) -> str:
    # Claims are a few integers: serialise them directly and hand PyJWT's JWS layer the bytes
    # (the JWT layer would re-encode and re-check them, which costs a batch ~10% of its time).
    payload = json.dumps(claims, separators=(",", ":")).encode()
    return _JWS.encode(payload, private_key, algorithm=ALGORITHM, headers={"kid": kid, "typ": typ})


def verify(token: str, public_keys: Mapping[str, object], *, now: datetime,
           typs: tuple[str, ...] = (COUPON_TYP, PACK_TYP)) -> tuple[str, dict]:
    """Check a token against the published keys; return (typ, claims) or refuse.

    Refusals: `malformed_payload` for anything that is not a compact JWS at all,
    `invalid_signature` for a wrong algorithm, type, key or signature, `coupon_expired` (410)
    for a genuine token past its `exp`. Expiry is checked against the service clock.
    """
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise TokenRefused("This is not a coupon code.", code="malformed_payload")
    try:
        header = jwt.get_unverified_header(token)
    except InvalidTokenError:  # DecodeError, and a header PyJWT refuses (e.g. a non-string kid)
        raise TokenRefused("This is not a coupon code.", code="malformed_payload") from None
    typ = header.get("typ")
    if header.get("alg") != ALGORITHM or typ not in typs:
        raise TokenRefused("This coupon was not issued by the exchange.")
    key = public_keys.get(str(header.get("kid")))
    if key is None:
        raise UnknownKey("This coupon was signed with a key the exchange does not accept.")
    try:
        # The JWS layer checks the signature; the claims are a few integers, checked below (the
        # JWT layer would parse the header a second time and check claims generically).
        payload = _JWS.decode(token, key, algorithms=[ALGORITHM])
        claims = json.loads(payload)
    except InvalidSignatureError:
        raise TokenRefused("This coupon's signature does not match: it was altered or forged.") from None
    except (DecodeError, InvalidTokenError, ValueError):
        raise TokenRefused("This coupon's contents are damaged.", code="malformed_payload") from None
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int) or not _has_subject(typ, claims):
        raise TokenRefused("This coupon's contents are damaged.", code="malformed_payload")
    if claims["c" if typ == COUPON_TYP else "p"] > MAX_ID:
        # Genuinely signed, yet beyond any id the database holds: no such coupon (never a lookup
        # the database would overflow on).
        raise TokenRefused("No such coupon.", code="unknown_coupon", status=404)
    if claims["exp"] <= now.timestamp():
        raise TokenRefused("This coupon has expired.", code="coupon_expired", status=410)
    return typ, claims


def _has_subject(typ: str, claims: dict) -> bool:
    field = "c" if typ == COUPON_TYP else "p"
    return isinstance(claims.get(field), int) and claims[field] > 0
