"""The app's key ring and the one way coupons and packs are signed and read."""

from __future__ import annotations

from flask import Flask, current_app

from .. import clock
from .keys import KeyRing
from .tokens import COUPON_TYP, PACK_TYP, UnknownKey, sign, verify


def init_app(app: Flask) -> None:
    ring = KeyRing(app.config["SIGNING_KEY_DIR"])
    if app.config["EXCHANGE_ENV"] != "production":
        ring.ensure()
    app.extensions["keyring"] = ring


def keyring() -> KeyRing:
    return current_app.extensions["keyring"]


class Signer:
    """Signs many tokens with the current key, looked up once."""

    def __init__(self):
        key = keyring().current()
        self.kid, self._private = key.kid, key.private_key

    def coupon(self, coupon_id: int, expires_at) -> str:
        return sign({"c": coupon_id, "exp": int(expires_at.timestamp())},
                    kid=self.kid, private_key=self._private, typ=COUPON_TYP)

    def pack(self, pack_id: int, expires_at) -> str:
        return sign({"p": pack_id, "exp": int(expires_at.timestamp())},
                    kid=self.kid, private_key=self._private, typ=PACK_TYP)


def read_token(token: str, *, allow_expired: bool = False) -> tuple[str, dict]:
    """(typ, claims) of a token the exchange signed with a key it still accepts; an unknown
    key id makes the ring look for a freshly rotated key once before refusing."""
    ring = keyring()
    at = clock.UTC_MIN if allow_expired else clock.now()
    try:
        return verify(token, ring.verifying_keys(), now=at)
    except UnknownKey:
        ring.refresh(force=True)
        return verify(token, ring.verifying_keys(), now=at)
