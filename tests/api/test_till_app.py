"""The till's files as the exchange serves them: a strict CSP, no inline script, nothing from
another host, an app shell the service worker can cache, and the QR decoder from npm."""

import json
import re
from html.parser import HTMLParser

from exchange.till.app import APP_DIR


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        if self.tags and self.tags[-1][0] == "script" and data.strip():
            self.tags.append(("inline-script", {"text": data}))


def test_till_redirects_into_the_service_workers_scope(client):
    r = client.get("/till")
    assert r.status_code == 308 and r.headers["Location"].endswith("/till/")


def test_the_page_has_a_strict_csp_and_no_inline_script_or_style(client):
    r = client.get("/till/")
    assert r.status_code == 200 and r.mimetype == "text/html"
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "http" not in csp
    assert "camera=(self)" in r.headers["Permissions-Policy"]
    parser = _Tags()
    parser.feed(r.get_data(as_text=True))
    kinds = [tag for tag, _ in parser.tags]
    assert "inline-script" not in kinds and "style" not in kinds
    assert all("style" not in attrs and not any(a.startswith("on") for a in attrs) for _, attrs in parser.tags)
    scripts = [attrs for tag, attrs in parser.tags if tag == "script"]
    assert scripts == [{"type": "module", "src": "app.js"}]


def test_every_control_has_a_label_or_an_aria_label(client):
    parser = _Tags()
    parser.feed(client.get("/till/").get_data(as_text=True))
    labelled = {attrs["for"] for tag, attrs in parser.tags if tag == "label"}
    for tag, attrs in parser.tags:
        if tag == "input":
            assert attrs["id"] in labelled or "data-i18n-aria" in attrs, attrs
        if tag == "button":
            assert "data-i18n" in attrs or "data-i18n-aria" in attrs, attrs
    assert any(attrs.get("aria-live") for _, attrs in parser.tags)


def test_nothing_is_loaded_from_another_host():
    for path in APP_DIR.rglob("*"):
        if path.suffix in (".js", ".html", ".css", ".webmanifest") and "vendor" not in path.parts:
            text = path.read_text()
            # Links in comments are fine; a fetch, import or src to another host is not.
            code = re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.S)
            assert not re.search(r"""["'(]\s*(https?:)?//""", code), path


def test_the_service_worker_caches_every_file_of_the_app(client):
    r = client.get("/till/sw.js")
    assert r.status_code == 200 and r.mimetype == "text/javascript"
    assert r.headers["Cache-Control"] == "no-cache"
    source = r.get_data(as_text=True)
    version = re.search(r'const CACHE = "till-([0-9a-f]{16})";', source)
    assert version, source[:300]
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", source).group(1))
    for name in ("./", "app.js", "api.js", "money.js", "scanner.js", "i18n.js", "store.js", "views/sale.js",
                 "manifest.webmanifest", "icons/icon-192.png", "vendor/qr-scanner.min.js",
                 "vendor/qr-scanner-worker.min.js"):
        assert name in shell, name
    for name in shell[1:]:
        served = client.get(f"/till/{name}")
        assert served.status_code == 200, name
        assert served.headers["Content-Security-Policy"]
    assert client.get("/till/app.js").mimetype == "text/javascript"


def test_the_manifest_makes_it_installable(client):
    r = client.get("/till/manifest.webmanifest")
    assert r.mimetype == "application/manifest+json"
    manifest = r.get_json(force=True)
    assert manifest["start_url"] == "/till/" and manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} >= {"192x192", "512x512"}
    for icon in manifest["icons"]:
        assert client.get(f"/till/{icon['src']}").status_code == 200


def test_the_qr_decoder_is_the_pinned_npm_package(client):
    lock = json.loads((APP_DIR.parents[2] / "package-lock.json").read_text())
    pinned = lock["packages"]["node_modules/qr-scanner"]["version"]
    package = json.loads((APP_DIR.parents[2] / "package.json").read_text())
    assert package["dependencies"]["qr-scanner"] == pinned  # exact, no range
    vendored = APP_DIR / "vendor" / "qr-scanner.min.js"
    assert vendored.exists(), "run `make till-vendor` (make run and make test do)"
    assert client.get("/till/vendor/qr-scanner.min.js").status_code == 200


def test_unknown_files_are_404_and_paths_stay_inside_the_app(client):
    assert client.get("/till/no-such-file.js").status_code == 404
    assert client.get("/till/../config/__init__.py").status_code == 404
    assert client.get("/till/%2e%2e/wsgi.py").status_code == 404
