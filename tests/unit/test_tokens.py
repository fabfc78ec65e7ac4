import base64
import json
from datetime import datetime, timezone

import pytest

from exchange.coupons.tokens import TokenRefused, verify


def _b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


@pytest.mark.parametrize("kid", [{"$ne": ""}, ["1"], 1, None])
def test_a_header_pyjwt_refuses_is_a_malformed_payload_not_a_500(kid):
    """Found by the security matrix: a non-string `kid` made PyJWT raise past the handler."""
    token = f"{_b64({'alg': 'EdDSA', 'typ': 'cpn', 'kid': kid})}.{_b64({'c': 1, 'exp': 9999999999})}.c2ln"
    with pytest.raises(TokenRefused) as refused:
        verify(token, {}, now=datetime.now(timezone.utc))
    assert refused.value.code in ("malformed_payload", "invalid_signature")
