"""Reading QR codes back in tests, as a phone or a till's camera would, with zbar.

Only QR codes are looked for: zbar's other symbologies (EAN, DataBar, Interleaved 2 of 5 …)
occasionally read a phantom one-dimensional barcode off a page's text or a QR's own modules,
a symbol no camera here would be asked to find."""

from __future__ import annotations

from PIL import Image
from pyzbar.pyzbar import ZBarSymbol, decode


def qr_texts(image: Image.Image) -> list[str]:
    """The text of every QR code zbar finds in `image`, in zbar's order."""
    return [symbol.data.decode() for symbol in decode(image, symbols=[ZBarSymbol.QRCODE])]
