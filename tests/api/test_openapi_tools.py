"""The OpenAPI document is accepted by the tools client developers use: Redocly CLI lints it
with no error, and openapi-python-client and openapi-typescript generate clients from it without
a warning (the generated Python client then talks to the exchange). The Node tools come from the
project's package.json and lockfile (`make` runs `npm ci`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE_BIN = ROOT / "node_modules" / ".bin"
CONFIGS = ROOT / "tests" / "openapi"
FILE_TYPES = {"text/csv", "application/pdf", "application/zip", "image/png", "image/svg+xml",
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
# No telemetry, no update checks: the tools run offline, in CI too.
QUIET = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true", "CI": "true",
         "NO_UPDATE_NOTIFIER": "1"}


def tool(name: str) -> Path:
    path = NODE_BIN / name
    assert path.exists(), f"{path} is missing: `make` installs the Node tools (npm ci)"
    return path


def run(*args, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, **QUIET, **(env or {})}
    return subprocess.run([str(a) for a in args], cwd=cwd, env=environment, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def document(app, tmp_path_factory) -> tuple[dict, Path]:
    body = app.test_client().get("/openapi.json").get_json()
    path = tmp_path_factory.mktemp("openapi") / "openapi.json"
    path.write_text(json.dumps(body, ensure_ascii=False, indent=1))
    return body, path


def operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


def test_every_operation_has_a_unique_operation_id(document):
    spec, _ = document
    ids = [operation.get("operationId") for _, _, operation in operations(spec)]
    assert all(ids) and len(ids) == len(set(ids)) and len(ids) > 60
    # Client generators turn them into snake_case names: those must not collide either.
    snake = {"".join(f"_{c.lower()}" if c.isupper() else c for c in i) for i in ids}
    assert len(snake) == len(ids)


def test_public_routes_say_so_and_the_others_name_the_bearer_key(document):
    spec, _ = document
    public = {(path, method) for path, method, operation in operations(spec) if operation["security"] == []}
    assert ("/.well-known/jwks.json", "get") in public and ("/c/{token}", "get") in public
    assert ("/api/v1/merchants", "post") in public and ("/healthz", "get") in public
    for path, method, operation in operations(spec):
        assert operation["security"] in ([], [{"bearer": []}]), (path, method)
        if (path, method) not in public:
            assert operation["security"] == [{"bearer": []}] and operation["x-key-kinds"], (path, method)


def test_every_file_answer_is_described_with_its_media_type(document):
    spec, _ = document
    seen = set()
    for path, method, operation in operations(spec):
        content = operation["responses"].get("200", {}).get("content", {})
        for media_type, body in content.items():
            if media_type in FILE_TYPES:
                seen.add(media_type)
                assert body["schema"]["type"] == "string", (path, media_type)
        if path.endswith((".csv", ".pdf", ".png", ".svg", ".xlsx")):
            assert set(content) & FILE_TYPES, (path, method, content)
    assert seen == FILE_TYPES


def test_redocly_lints_the_document_with_no_error(document):
    _, path = document
    result = run(tool("redocly"), "lint", path, "--format=json", "--config", CONFIGS / "redocly.yaml",
                 cwd=path.parent)
    report = json.loads(result.stdout)
    errors = [p for p in report["problems"] if p["severity"] == "error"]
    assert report["totals"]["errors"] == 0 and not errors, json.dumps(errors, indent=1)[:4000]
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_python_client_generates_without_warnings_and_talks_to_the_exchange(document, app, tmp_path):
    _, path = document
    bin_dir = Path(sys.executable).parent
    # The generator formats its output with ruff (its own dependency), found on PATH.
    result = run(bin_dir / "openapi-python-client", "generate", "--path", path, "--output-path",
                 tmp_path / "exchange_client", "--meta", "none",
                 "--config", CONFIGS / "openapi-python-client.yaml", cwd=tmp_path,
                 env={"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"})
    said = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode == 0 and said == [f"Generating {tmp_path / 'exchange_client'}"], "\n".join(said)[-4000:]

    sys.path.insert(0, str(tmp_path))
    try:
        from exchange_client import Client
        from exchange_client.api.customer import get_jwks

        client = Client(base_url="http://exchange.test",
                        httpx_args={"transport": httpx.WSGITransport(app=app)})
        keys = get_jwks.sync(client=client)
        assert keys.keys and keys.keys[0].kty == "OKP" and keys.keys[0].alg == "EdDSA"
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == "exchange_client" or m.startswith("exchange_client.")]:
            del sys.modules[name]


def test_typescript_types_generate_without_warnings_and_compile(document, tmp_path):
    _, path = document
    out = tmp_path / "exchange.d.ts"
    result = run(tool("openapi-typescript"), path, "-o", out, cwd=tmp_path)
    said = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode == 0 and out.exists(), "\n".join(said)
    assert not [line for line in said if "warn" in line.lower() or "⚠" in line or "error" in line.lower()], said
    assert "export interface paths" in out.read_text()
    compiled = run(tool("tsc"), "--noEmit", "--strict", out, cwd=tmp_path)
    assert compiled.returncode == 0, compiled.stdout[-3000:]
