"""Manual coupon codes, for typing when a QR code is damaged: pure.

13 characters of Crockford's base32 (no I, L, O or U) = 65 random bits, so codes can be
neither guessed nor enumerated, and are shown in groups of 4-4-5. Typing is forgiving: case,
spaces and dashes are ignored (also those a Chinese input method types), and the letters people
confuse with digits are read as digits.
"""

from __future__ import annotations

import base64
import re
import secrets
import unicodedata

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 13
# base32 of random bytes, re-lettered: as random as choosing each character, ~20× faster, which
# matters when a batch prints 100,000 of them.
_FROM_RFC4648 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET.encode())
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})
_VALID = re.compile(f"^[{ALPHABET}]{{{LENGTH}}}$")


def new_code() -> str:
    return new_codes(1)[0]


def new_codes(count: int) -> list[str]:
    """`count` fresh codes from one read of the system's random source."""
    text = base64.b32encode(secrets.token_bytes(10 * count)).translate(_FROM_RFC4648).decode()
    return [text[i:i + LENGTH] for i in range(0, 16 * count, 16)]


def display(code: str) -> str:
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def normalize(text: str) -> str | None:
    """The stored form of a typed code, or None if it cannot be one.

    A cashier on a Chinese input method types full-width letters and digits (７Ｋ３Ｍ), an
    ideographic space and an em dash (——) for the hyphen: NFKC folds the full-width forms to
    ASCII, and every space and dash (Unicode Pd, and the minus sign) is dropped.
    """
    if not isinstance(text, str) or len(text) > 40:
        return None
    folded = unicodedata.normalize("NFKC", text)
    cleaned = "".join(ch for ch in folded if not (ch.isspace() or ch == "\u2212"
                                                  or unicodedata.category(ch) == "Pd"))
    cleaned = cleaned.upper().translate(_CONFUSABLE)
    return cleaned if _VALID.match(cleaned) else None
