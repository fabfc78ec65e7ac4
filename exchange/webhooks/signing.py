"""Standard Webhooks headers, signed with the maintained `standardwebhooks` library (pure)."""

from __future__ import annotations

import base64
import secrets as _secrets
from datetime import datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """`whsec_` and 32 random bytes in base64: the form the library's receivers take as is."""
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(32)).decode()


def headers(msg_id: str, timestamp: datetime, body: str, secrets: list[str]) -> dict[str, str]:
    """webhook-id, webhook-timestamp and webhook-signature: one `v1,…` per secret, space
    separated (during a rotation's overlap both the new and the old secret sign, so a receiver
    that has either verifies)."""
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": " ".join(Webhook(s).sign(msg_id, timestamp, body) for s in secrets)}
