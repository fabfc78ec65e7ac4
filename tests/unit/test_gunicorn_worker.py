"""The worker's last line of defence: an exception that escaped the app is a problem+json 500
(gunicorn's own page is HTML). The refusals gunicorn makes while parsing are tested through a
real server in tests/e2e/test_gunicorn_errors.py."""

import json
import logging
import socket

from exchange.http.gunicorn_worker import ProblemThreadWorker, problem_page


def _worker():
    worker = ProblemThreadWorker.__new__(ProblemThreadWorker)  # gunicorn's config is not needed here
    worker.log = logging.getLogger("test.gunicorn")
    return worker


def test_an_exception_that_escaped_the_app_is_a_problem_json_500():
    ours, client = socket.socketpair()
    with ours, client:
        _worker().handle_error(None, ours, ("127.0.0.1", 5555), RuntimeError("secret detail hunter2"))
        ours.shutdown(socket.SHUT_WR)
        answer = client.recv(65536)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert b"Content-Type: application/problem+json" in head
    document = json.loads(body)
    assert document["code"] == "internal_error" and document["status"] == 500
    assert b"hunter2" not in answer and b"<html" not in answer


def test_every_status_gets_a_stable_code_and_a_length_that_matches():
    for status, reason, code in ((414, "URI Too Long", "request_line_too_long"),
                                 (431, "Request Header Fields Too Large", "headers_too_large"),
                                 (400, "Bad Request", "malformed_request"),
                                 (599, "Odd", "internal_error"), (499, "Odd", "bad_request")):
        head, _, body = problem_page(status, reason).partition(b"\r\n\r\n")
        assert head.split(b"\r\n")[0] == f"HTTP/1.1 {status} {reason}".encode()
        assert f"Content-Length: {len(body)}".encode() in head
        assert json.loads(body)["code"] == code
