"""QR images of coupon links, pure (no Flask, no database).

A coupon link is `EXCHANGE_PUBLIC_URL/c/<token>`. The scheme and host of a URL are
case-insensitive and the exchange also answers `/C/`, so the part before the token is encoded
upper-case in QR alphanumeric mode (5.5 bits a character instead of 8): that keeps a signed
coupon link within QR version 10 at error correction M, small enough to print on a receipt.

Two encoders: the images a screen shows (PNG, SVG) come from `qrcode`, which picks the easiest
of the eight masks to scan; printed sheets take their modules from zxing-cpp (libzint's encoder,
in C), with one fixed version and mask — a 100,000-coupon print run is 100,000 symbols, which
the pure-Python encoder takes ~3.5 ms each to make even with a fixed mask, zxing-cpp ~0.15 ms.
Both choose the segments' modes themselves (the upper-cased prefix in alphanumeric mode).
"""

from __future__ import annotations

import io
import re

import qrcode
import qrcode.image.svg
import zxingcpp
from qrcode.constants import ERROR_CORRECT_M
from qrcode.util import MODE_8BIT_BYTE, MODE_ALPHA_NUM, QRData

_ALPHANUMERIC = re.compile(r"^[0-9A-Z $%*+\-./:]*$")
BOX_SIZE = 6
BORDER = 4
# Printed sheets: every symbol the same size (version 10 holds a coupon link at M for public URLs
# of up to ~40 characters, docs/coupons.md), one mask (any mask is valid QR; zbar reads them all).
PRINT_VERSION = 10
PRINT_MASK = 4


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


def print_modules(public_url: str, token: str) -> tuple[int, bytes]:
    """The link's symbol for a printed sheet: (modules a side, the modules row by row, one byte
    each, 0 dark and 255 light), without the quiet zone. Version `PRINT_VERSION` at M when the
    link fits it, else the smallest version that holds it."""
    prefix, token = link_parts(public_url, token)
    text = prefix + token
    try:
        symbol = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M",
                                         version=PRINT_VERSION, data_mask=PRINT_MASK)
    except ValueError:  # "Input too long for Version 10-M": a long public URL
        symbol = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M",
                                         data_mask=PRINT_MASK)
    modules = memoryview(symbol.to_image(add_quiet_zones=False))
    return modules.shape[0], modules.tobytes()
