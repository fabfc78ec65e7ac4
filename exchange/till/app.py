"""The till's web app at /till/: static ES modules and HTML, under a strict CSP (SPEC §8).

Nothing is rendered per request but the service worker, which carries a digest of the app
shell so that a new release replaces the cached one. No inline script, nothing from another
host; the QR decoder's worker is a `blob:` made by its own module (see docs/till.md).
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from flask import Blueprint, Response, redirect, send_from_directory

APP_DIR = Path(__file__).resolve().parent.parent / "static" / "till"

CSP = ("default-src 'none'; script-src 'self'; worker-src 'self' blob:; connect-src 'self'; "
       "img-src 'self' data: blob:; style-src 'self'; media-src 'self' blob: mediastream:; "
       "manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
MEDIA_TYPES = {".js": "text/javascript", ".webmanifest": "application/manifest+json"}

blp = Blueprint("till_app", __name__)


def _secured(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    # The camera, for this origin only; nothing else a page could ask for.
    response.headers["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=(), payment=()"
    return response


@functools.cache
def _shell() -> tuple[list[str], str]:
    """Every file of the app (what the service worker caches) and a digest of them all."""
    files = sorted(p for p in APP_DIR.rglob("*")
                   if p.is_file() and p.name != "sw.js" and not p.name.startswith(".") and p.suffix != ".map")
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(APP_DIR).as_posix().encode() + b"\0" + path.read_bytes())
    names = ["./"] + [p.relative_to(APP_DIR).as_posix() for p in files if p.name != "index.html"]
    return names, digest.hexdigest()[:16]


@blp.get("/till")
def till_root():
    # The service worker's scope is /till/; a fragment (#pair=…) survives the redirect.
    return redirect("/till/", code=308)


@blp.get("/till/")
def till_index():
    response = send_from_directory(APP_DIR, "index.html", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return _secured(response)


@blp.get("/till/sw.js")
def till_service_worker():
    names, version = _shell()
    source = (APP_DIR / "sw.js").read_text()
    source = source.replace("__VERSION__", version).replace("__SHELL__", json.dumps(names))
    response = Response(source, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return _secured(response)


@blp.get("/till/<path:filename>")
def till_file(filename: str):
    response = send_from_directory(APP_DIR, filename, max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    suffix = Path(filename).suffix
    if suffix in MEDIA_TYPES:
        response.mimetype = MEDIA_TYPES[suffix]
    return _secured(response)
