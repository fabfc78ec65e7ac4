"""QR images as HTTP responses: rendered once per worker, revalidated by ETag."""

from __future__ import annotations

from functools import lru_cache

from flask import Response, current_app

from ..http.delivery import conditional, weak_etag
from . import qr

MIMETYPES = {"png": "image/png", "svg": "image/svg+xml"}


@lru_cache(maxsize=1024)
def _render(public_url: str, token: str, fmt: str) -> bytes:
    return qr.png_bytes(public_url, token) if fmt == "png" else qr.svg_bytes(public_url, token)


def qr_response(token: str, fmt: str) -> Response:
    public_url = current_app.config["PUBLIC_URL"]
    response = conditional(weak_etag(fmt, public_url, token),
                           lambda: Response(_render(public_url, token, fmt), mimetype=MIMETYPES[fmt]))
    # The image never changes for a token; it is private to whoever holds the token.
    response.headers["Cache-Control"] = "private, max-age=86400, immutable"
    return response
