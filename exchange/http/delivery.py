"""How answers travel: compression, cross-origin access (CORS) and revalidation by ETag.

* Compression (flask-compress): brotli or gzip, as the client accepts, for the text formats —
  JSON, CSV, SVG, HTML, CSS, JavaScript. Never for PNG, PDF or XLSX: they are compressed
  already, and a second pass only costs CPU. Answers below `COMPRESS_MIN_SIZE` (1,400 bytes)
  stay as they are: they fit in one TCP segment anyway, so compressing them saves no round
  trip, and the till's answers (verify, redeem: a few hundred bytes) pay nothing for it.
* CORS (flask-cors): the API for the browser apps at `EXCHANGE_CORS_ORIGINS` (none by
  default); the public keys and the customer page for any origin, as they hold nothing private
  to a caller (no cookies are ever used: keys travel in `Authorization`).
* ETags are compared weakly (RFC 9110 §13.1.2): a client may send back `W/"…"`, and a
  compressed answer's ETag gains a suffix per coding (flask-compress), so the validators the
  exchange sets are weak — the same image or key set in any coding is the same answer.
"""

from __future__ import annotations

import hashlib

from flask import Flask, Response, request
from flask_compress import Compress
from flask_cors import CORS

MIN_COMPRESSED_SIZE = 1400  # bytes: about one TCP segment
COMPRESSED_TYPES = ["application/json", "text/csv", "image/svg+xml", "text/html", "text/css",
                    "text/javascript", "application/javascript"]
# What a browser app must be able to send and to read across origins.
CORS_REQUEST_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key"]
CORS_EXPOSED_HEADERS = ["Idempotent-Replayed", "Retry-After", "X-Request-Id", "ETag", "Location",
                        "Content-Disposition"]

compress = Compress()
cors = CORS()


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["br", "gzip"])
    app.config.setdefault("COMPRESS_MIN_SIZE", MIN_COMPRESSED_SIZE)
    # Brotli's level 4 compresses JSON about as well as gzip -6 at a fraction of the CPU.
    app.config.setdefault("COMPRESS_BR_LEVEL", 4)
    compress.init_app(app)
    common = {"allow_headers": CORS_REQUEST_HEADERS, "expose_headers": CORS_EXPOSED_HEADERS,
              "supports_credentials": False, "max_age": 600}
    public = {"origins": "*", "send_wildcard": True, **common}
    resources = {r"/.well-known/*": public, r"/c/*": public, r"/C/*": public}
    if app.config["CORS_ORIGINS"]:
        resources[r"/api/*"] = {"origins": app.config["CORS_ORIGINS"], **common}
    cors.init_app(app, resources=resources)


def weak_etag(*parts: str) -> str:
    """A weak validator for an answer made of `parts` (without the W/ and the quotes)."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def conditional(etag: str, make_body) -> Response:
    """304 when the client's If-None-Match matches `etag` weakly, else the answer
    `make_body()` returns (built only when needed); either way with the weak ETag."""
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        response = make_body()
    response.set_etag(etag, weak=True)
    return response
