"""QR images of coupon links, pure (no Flask, no database).

A coupon link is `EXCHANGE_PUBLIC_URL/c/<token>`. The scheme and host of a URL are
case-insensitive and the exchange also answers `/C/`, so the part before the token is encoded
upper-case in QR alphanumeric mode (5.5 bits a character instead of 8): that keeps a signed
coupon link within QR version 10 at error correction M, small enough to print on a receipt.
"""

from __future__ import annotations

import io
import re

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M
from qrcode.util import MODE_8BIT_BYTE, MODE_ALPHA_NUM, QRData

_ALPHANUMERIC = re.compile(r"^[0-9A-Z $%*+\-./:]*$")
BOX_SIZE = 6
BORDER = 4


def link_parts(public_url: str, token: str) -> tuple[str, str]:
    """(prefix, token) of the coupon link, the prefix upper-cased where that is harmless."""
    prefix = f"{public_url.rstrip('/')}/c/"
    scheme, sep, rest = prefix.partition("://")
    host, slash, path = rest.partition("/")
    upper = f"{scheme.upper()}{sep}{host.upper()}{slash}{path.upper()}"
    return (upper if _ALPHANUMERIC.match(upper) else prefix), token


def make_qr(public_url: str, token: str, *, box_size: int = BOX_SIZE,
            mask_pattern: int | None = None) -> qrcode.QRCode:
    """`mask_pattern=None` tries all eight masks and keeps the easiest to scan (what a phone
    screen shows); a fixed mask is ~5× faster and every mask is valid QR (for printing 100,000)."""
    prefix, token = link_parts(public_url, token)
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=BORDER,
                       mask_pattern=mask_pattern)
    if _ALPHANUMERIC.match(prefix):
        qr.add_data(QRData(prefix.encode(), mode=MODE_ALPHA_NUM))
        qr.add_data(QRData(token.encode(), mode=MODE_8BIT_BYTE))
    else:
        qr.add_data(QRData((prefix + token).encode(), mode=MODE_8BIT_BYTE))
    qr.make(fit=True)
    return qr


def png_bytes(public_url: str, token: str, *, box_size: int = BOX_SIZE) -> bytes:
    image = make_qr(public_url, token, box_size=box_size).make_image()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def svg_bytes(public_url: str, token: str) -> bytes:
    image = make_qr(public_url, token).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()
