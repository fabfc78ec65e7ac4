"""Customer references (a phone number, a member id) become keyed pseudonyms, pure.

SPEC §4.5 and the articles' stress on lawful use of consumer data: the reference itself is never
stored, returned or logged. Only an HMAC-SHA256 under the exchange's secret key is kept, which
lets the exchange count a customer's coupons (per-customer limits) and partners count distinct
customers, without anyone being able to recover or even test a phone number without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import re


def normalize_reference(ref: str) -> str:
    """Same customer, same pseudonym: ignore spaces, dashes, dots, brackets and letter case."""
    return re.sub(r"[\s\-.()]", "", ref).lower()


def pseudonym(ref: str, key: str) -> str:
    return hmac.new(key.encode(), normalize_reference(ref).encode(), hashlib.sha256).hexdigest()
