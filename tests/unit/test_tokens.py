import base64
import json
from datetime import UTC, datetime

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exchange.coupons.tokens import COUPON_TYP, TokenRefused, UnknownKey, sign, verify


def _b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


@pytest.mark.parametrize("kid", [{"$ne": ""}, ["1"], 1, None])
def test_a_header_pyjwt_refuses_is_a_malformed_payload_not_a_500(kid):
    """Found by the security matrix: a non-string `kid` made PyJWT raise past the handler."""
    token = f"{_b64({'alg': 'EdDSA', 'typ': 'cpn', 'kid': kid})}.{_b64({'c': 1, 'exp': 9999999999})}.c2ln"
    with pytest.raises(TokenRefused) as refused:
        verify(token, {}, now=datetime.now(UTC))
    assert refused.value.code in ("malformed_payload", "invalid_signature")


KEY = Ed25519PrivateKey.generate()
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _signed(payload: bytes, typ: str = COUPON_TYP) -> str:
    return jwt.PyJWS().encode(payload, KEY, algorithm="EdDSA", headers={"kid": "k1", "typ": typ})


def test_a_genuine_token_gives_its_type_and_claims():
    token = sign({"c": 42, "exp": int(NOW.timestamp()) + 60}, kid="k1", private_key=KEY, typ=COUPON_TYP)
    assert verify(token, {"k1": KEY.public_key()}, now=NOW) == (COUPON_TYP, {"c": 42, "exp": int(NOW.timestamp()) + 60})


@pytest.mark.parametrize("payload", [b"[1, 2]", b"not json", b'"text"', b'{"c": 1}', b'{"c": "1", "exp": 9999999999}',
                                     b'{"c": 0, "exp": 9999999999}', b'{"exp": 9999999999}'])
def test_a_signed_token_with_damaged_claims_is_a_malformed_payload(payload):
    with pytest.raises(TokenRefused) as refused:
        verify(_signed(payload), {"k1": KEY.public_key()}, now=NOW)
    assert refused.value.code == "malformed_payload"


def test_a_token_under_a_key_not_held_is_refused_as_an_unknown_key():
    token = sign({"c": 1, "exp": 9999999999}, kid="k2", private_key=KEY, typ=COUPON_TYP)
    with pytest.raises(UnknownKey) as refused:
        verify(token, {"k1": KEY.public_key()}, now=NOW)
    assert refused.value.code == "invalid_signature"


def test_a_token_signed_by_another_key_under_a_known_kid_is_forged():
    token = sign({"c": 1, "exp": 9999999999}, kid="k1", private_key=Ed25519PrivateKey.generate(), typ=COUPON_TYP)
    with pytest.raises(TokenRefused) as refused:
        verify(token, {"k1": KEY.public_key()}, now=NOW)
    assert refused.value.code == "invalid_signature" and "forged" in refused.value.detail


def test_an_expired_token_is_gone():
    token = sign({"c": 1, "exp": int(NOW.timestamp())}, kid="k1", private_key=KEY, typ=COUPON_TYP)
    with pytest.raises(TokenRefused) as refused:
        verify(token, {"k1": KEY.public_key()}, now=NOW)
    assert (refused.value.code, refused.value.status) == ("coupon_expired", 410)
