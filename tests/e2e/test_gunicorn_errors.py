"""What gunicorn refuses before the app sees a request is problem+json too (SPEC §4.7), sent
over raw sockets as a broken client would send it."""

import json
import socket

import pytest

from tests.databases import fresh_database
from tests.e2e.conftest import start_server, stop_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(base_db_url, tmp_path_factory):
    """One server for the module: every probe here is refused before it reaches the app."""
    tmp = tmp_path_factory.mktemp("gunicorn-errors")
    with fresh_database(base_db_url, tmp) as url:
        proc, server = start_server(url, tmp)
        try:
            yield server
        finally:
            stop_server(proc)


def _raw(server, data: bytes) -> tuple[int, dict, bytes]:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split(" ")[1]), headers, body


def _assert_problem(answer, status: int, code: str) -> dict:
    got, headers, body = answer
    assert got == status, (got, headers, body[:300])
    assert headers["content-type"] == "application/problem+json", headers
    assert int(headers["content-length"]) == len(body)
    assert headers["connection"] == "close"
    document = json.loads(body)
    assert document["status"] == status and document["code"] == code, document
    assert set(document) == {"type", "title", "status", "detail", "code"}
    assert b"<html" not in body.lower()
    return document


@pytest.mark.parametrize("what,request_bytes,status,code", [
    ("a request line over 4 KB", b"GET /api/v1/categories?q=" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
     414, "request_line_too_long"),
    ("one header over 8 KB", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n",
     431, "headers_too_large"),
    ("over a hundred headers", b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
     + b"".join(b"X-H%d: v\r\n" % i for i in range(150)) + b"\r\n", 431, "headers_too_large"),
    ("a Content-Length that is no number", b"POST /api/v1/merchants HTTP/1.1\r\nHost: x\r\n"
     b"Content-Type: application/json\r\nContent-Length: abc\r\n\r\n{}", 400, "malformed_request"),
    ("a negative Content-Length", b"POST /api/v1/merchants HTTP/1.1\r\nHost: x\r\n"
     b"Content-Length: -5\r\n\r\n{}", 400, "malformed_request"),
    ("two different Content-Lengths", b"POST /api/v1/merchants HTTP/1.1\r\nHost: x\r\n"
     b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400, "malformed_request"),
    ("a request line that is not HTTP", b"HELLO\r\n\r\n", 400, "malformed_request"),
    ("an invalid HTTP version", b"GET /healthz HTTP/9.x\r\nHost: x\r\n\r\n", 400, "malformed_request"),
])
def test_requests_gunicorn_refuses_are_answered_in_problem_json(server, what, request_bytes, status, code):
    _assert_problem(_raw(server, request_bytes), status, code)


def test_the_server_still_serves_after_refusing(server):
    _raw(server, b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    status, headers, body = _raw(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 200 and json.loads(body)["status"] == "ok"
