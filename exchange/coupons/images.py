"""QR images as HTTP responses: rendered once per worker, revalidated by ETag."""

from __future__ import annotations

import hashlib
from functools import lru_cache

from flask import Response, current_app, request

from . import qr

MIMETYPES = {"png": "image/png", "svg": "image/svg+xml"}


@lru_cache(maxsize=1024)
def _render(public_url: str, token: str, fmt: str) -> bytes:
    return qr.png_bytes(public_url, token) if fmt == "png" else qr.svg_bytes(public_url, token)


def qr_response(token: str, fmt: str) -> Response:
    public_url = current_app.config["PUBLIC_URL"]
    etag = hashlib.sha256(f"{fmt}\n{public_url}\n{token}".encode()).hexdigest()[:32]
    if etag in request.if_none_match:
        response = Response(status=304)
    else:
        response = Response(_render(public_url, token, fmt), mimetype=MIMETYPES[fmt])
    response.set_etag(etag)
    # The image never changes for a token; it is private to whoever holds the token.
    response.headers["Cache-Control"] = "private, max-age=86400, immutable"
    return response
