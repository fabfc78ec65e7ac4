"""Till pairing codes, pure: short enough to type on a phone, useless after ten minutes.

8 characters of Crockford's base32 (the coupon codes' alphabet: no I, L, O or U) = 40 random
bits, shown as 4-4. A code lives minutes, is used once and the exchange answers a handful of
guesses a minute per address, so 40 bits leave a guesser nothing; only its SHA-256 is stored.
Typing is forgiving: case, spaces, dashes and full-width characters (a Chinese IME) are
ignored, and letters people confuse with digits are read as digits.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import unicodedata

import qrcode
from qrcode.constants import ERROR_CORRECT_M

from ..coupons.codes import ALPHABET

LENGTH = 8
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})
_VALID = re.compile(f"^[{ALPHABET}]{{{LENGTH}}}$")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def display(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def normalize(text: str) -> str | None:
    """The stored form of a typed code, or None if it cannot be one."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    cleaned = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", text)).upper().translate(_CONFUSABLE)
    return cleaned if _VALID.match(cleaned) else None


def code_hash(code: str) -> str:
    return hashlib.sha256(f"till-pairing:{code}".encode()).hexdigest()


def qr_png(text: str) -> bytes:
    """The pairing link as a QR image, for the merchant to show on a screen or print."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=8, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    out = io.BytesIO()
    qr.make_image().save(out, format="PNG")
    return out.getvalue()
