"""The font every PDF the exchange writes embeds, pure (no Flask).

A coupon sheet or a statement is printed in a shop, opened on a partner's laptop or a phone, or
sent to a print shop: none of them can be assumed to have a Chinese font. So every PDF embeds a
subset of one TrueType CJK font (SPEC §4.11) — WenQuanYi Micro Hei, Apache 2.0 / GPLv3 with a
font-embedding exception, from Debian's fonts-wqy-microhei. Its collection (.ttc) holds a
proportional face for text and a monospaced one for the manual codes; both cover Latin, the
yuan sign and the punctuation the documents use, so no text falls back to an unembedded font.
(The Noto CJK fonts are CFF-based OpenType, which reportlab cannot embed.)

`use(path)` says where the file is (from `EXCHANGE_PDF_FONT`); the font is read the first time
a PDF is drawn, once per process. Production refuses to start without it (config/).
"""

from __future__ import annotations

import threading
from pathlib import Path

from reportlab import rl_config
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FAMILY = "WenQuanYi Micro Hei"
PACKAGE = "fonts-wqy-microhei"
DEFAULT_PATH = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
TEXT_FONT = "WenQuanYiMicroHei"  # subfont 0 of the collection
CODE_FONT = "WenQuanYiMicroHeiMono"  # subfont 1: a manual code's characters line up

_path = DEFAULT_PATH
_registered = False
_lock = threading.Lock()


class FontMissing(RuntimeError):
    """The PDF font file is not where the configuration says."""


def use(path: str | None) -> None:
    global _path
    _path = path or DEFAULT_PATH


def missing(path: str | None = None) -> str | None:
    """Why the font cannot be used (a sentence naming it), or None when it can."""
    path = path or _path
    if not Path(path).is_file():
        return (f"the PDF font {FAMILY} is missing: no file {path} (install Debian's {PACKAGE}, "
                "or set EXCHANGE_PDF_FONT to the .ttc)")
    return None


def register() -> None:
    """Make the font known to reportlab (process-wide, once)."""
    global _registered
    if _registered:
        return
    with _lock:
        if _registered:
            return
        problem = missing()
        if problem:
            raise FontMissing(problem)
        pdfmetrics.registerFont(TTFont(TEXT_FONT, _path, subfontIndex=0))
        pdfmetrics.registerFont(TTFont(CODE_FONT, _path, subfontIndex=1))
        # The font has no bold face: <b> in a paragraph keeps the same face (the documents mark
        # what matters by size and colour), instead of falling back to an unembedded Helvetica.
        for bold in (0, 1):
            for italic in (0, 1):
                addMapping(TEXT_FONT, bold, italic, TEXT_FONT)
        # ASCII85 (reportlab's default) only matters for 7-bit transports; we write bytes, and it
        # adds 25% to every QR image, page and font subset, in memory and on disk.
        rl_config.useA85 = 0
        _registered = True
