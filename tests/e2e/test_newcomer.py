"""What a newcomer does after `make run`, against a real gunicorn and a real database."""

import contextlib
import json
import os
import subprocess

import pytest

from tests.e2e.conftest import BIN, ROOT

pytestmark = pytest.mark.e2e


def test_register_create_store_and_terminal_key_through_gunicorn(live_server):
    status, _, body = live_server.request("POST", "/api/v1/merchants", {
        "name": "贝贝童车馆", "categories": ["stroller"], "price_tier": 3, "scale": "small",
        "city": "杭州"})
    assert status == 201
    key = json.loads(body)["api_key"]["key"]
    status, _, body = live_server.request("POST", "/api/v1/stores",
                                          {"name": "文三路店", "address": "文三路 88 号", "city": "杭州"}, key)
    assert status == 201
    store_id = json.loads(body)["id"]
    status, _, body = live_server.request("POST", f"/api/v1/stores/{store_id}/terminal-keys", {}, key)
    assert status == 201 and json.loads(body)["key"].startswith("tk_")
    status, headers, body = live_server.request("GET", "/docs")
    assert status == 200 and b"swagger-ui" in body
    status, _, body = live_server.request("GET", "/openapi.json")
    assert "/api/v1/stores/{store_id}/terminal-keys" in json.loads(body)["paths"]


def test_errors_through_gunicorn_are_problem_json(live_server):
    status, headers, body = live_server.request("GET", "/no/such/route")
    assert status == 404 and headers["Content-Type"] == "application/problem+json"
    status, headers, _ = live_server.request("POST", "/api/v1/merchants", {"name": "x" * (2 * 1024 * 1024)})
    assert status == 413 and headers["Content-Type"] == "application/problem+json"


def test_demo_command_loads_the_world_once_and_prints_keys(live_server):
    first = live_server.flask("exchange", "demo", "--if-empty")
    assert first.returncode == 0, first.stderr
    assert "STROLLER_KEY=mk_" in first.stdout and "MATERNITY_TERMINAL_KEY=tk_" in first.stdout
    assert "RIVAL_STROLLER_KEY=mk_" in first.stdout
    key = next(line.split("=", 1)[1] for line in first.stdout.splitlines()
               if line.startswith("STROLLER_KEY="))
    status, _, body = live_server.request("GET", "/api/v1/stores", key=key)
    assert status == 200 and json.loads(body)["items"][0]["name"].startswith("贝贝童车馆")
    second = live_server.flask("exchange", "demo", "--if-empty")
    assert second.returncode == 0 and "already exist" in second.stdout


def test_production_refuses_to_start_without_secrets():
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    env["EXCHANGE_ENV"] = "production"
    result = subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "current"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == ["exchange: production refuses to start: missing EXCHANGE_OPERATOR_KEY, "
                     "EXCHANGE_SIGNING_KEY_DIR, EXCHANGE_PSEUDONYM_KEY"]


def test_production_refuses_to_start_without_the_pdf_font_and_names_it(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    env.update({"EXCHANGE_ENV": "production", "EXCHANGE_OPERATOR_KEY": "o" * 32,
                "EXCHANGE_SIGNING_KEY_DIR": str(tmp_path / "keys"), "EXCHANGE_PSEUDONYM_KEY": "p" * 32,
                "EXCHANGE_PDF_FONT": str(tmp_path / "no-such-font.ttc")})
    result = subprocess.run([str(BIN / "gunicorn"), "-b", "127.0.0.1:0", "wsgi:app"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert (f"exchange: production refuses to start: the PDF font WenQuanYi Micro Hei is missing: no file "
            f"{tmp_path / 'no-such-font.ttc'} (install Debian's fonts-wqy-microhei") in result.stderr


def test_oversized_chunked_body_is_413_not_cut_short(live_server):
    import socket
    from urllib.parse import urlparse

    port = urlparse(live_server.url).port
    body = b'{"name": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    request = (b"POST /api/v1/merchants HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
               + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        # The server may answer and close before reading everything.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head = answer.split(b"\r\n", 1)[0]
    assert head.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"application/problem+json" in answer
