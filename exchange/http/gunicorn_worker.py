"""gunicorn's worker, answering in problem+json even before the app sees a request (SPEC §4.7).

gunicorn refuses some requests itself, while parsing them: a request line over 4 KB (414),
too many or too large headers (431), a bad Content-Length or a malformed request line (400).
Its own answers to those are small HTML pages, and so is its 500 for an exception that escaped
the app. This worker (gthread's, configured in `gunicorn.conf.py`) lets gunicorn decide and log
as it always does, then sends the same status as a problem document instead of the page.
"""

from __future__ import annotations

import json
import time

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

from .problems import PROBLEM_JSON, problem_document

_PROBLEMS = {
    400: ("malformed_request", "The request is not valid HTTP/1.1 (its request line, a header or "
                               "its Content-Length); it was not processed."),
    403: ("forbidden", "The request was refused before it reached the service."),
    414: ("request_line_too_long", "The request line (method, path and query) is longer than the "
                                   "server accepts; send long values in a JSON body."),
    417: ("expectation_failed", "The server cannot meet the request's Expect header."),
    431: ("headers_too_large", "The request's headers are too many or too large."),
    501: ("not_implemented", "The request's Transfer-Encoding is not supported."),
}
BUSY_ACCEPT_SECONDS = 0.05
_SERVER_ERROR = ("internal_error", "Something went wrong on our side; the request had no effect. Retry later.")


class _ErrorPage:
    """Stands in for the client's socket while gunicorn writes its HTML error page, keeping
    the status line: gunicorn's own classification of the error, without copying it here."""

    def __init__(self) -> None:
        self.written = b""

    def gettimeout(self) -> float:
        return 0.0  # non-blocking already: gunicorn need not switch modes

    def sendall(self, data: bytes) -> None:
        self.written += data

    def status(self) -> tuple[int, str]:
        """(status, reason) from `HTTP/1.1 414 URI Too Long`; 500 if nothing usable was written."""
        parts = self.written.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
        if len(parts) == 3 and parts[1].isdigit():
            return int(parts[1]), parts[2]
        return 500, "Internal Server Error"


def problem_page(status: int, reason: str) -> bytes:
    """A whole HTTP/1.1 answer: the problem document for `status`, closing the connection."""
    code, detail = _PROBLEMS.get(status) or (
        _SERVER_ERROR if status >= 500 else ("bad_request", "The request was refused before it reached the service."))
    body = json.dumps(problem_document(status, code, reason, detail), ensure_ascii=False).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: {PROBLEM_JSON}\r\n"
            f"Content-Length: {len(body)}\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n\r\n")
    return head.encode("latin-1") + body


class ProblemThreadWorker(ThreadWorker):
    def handle_error(self, req, client, addr, exc):
        page = _ErrorPage()
        super().handle_error(req, page, addr, exc)
        try:
            util.write_nonblock(client, problem_page(*page.status()))
        except Exception:
            self.log.debug("Failed to send error message.")

    # Accepting while a thread is free — and, while busy, at most every BUSY_ACCEPT_SECONDS times
    # the requests it has waiting.
    # gthread's loop accepts whenever it polls, busy or not: a worker whose one thread is serving
    # a request takes every connection that arrives meanwhile and queues it behind that request,
    # while another worker sits idle, and kept-alive clients (tills, a proxy's connections) then
    # stay on the busy worker for good — the redemption benchmark saw one of two workers get
    # every connection in a third of its runs, at half the throughput. A busy worker leaves new
    # connections in the listen queue for an idle one; so that a server whose workers are all busy
    # with kept-alive clients still takes newcomers, each also accepts one now and then.

    _in_flight = 0
    _last_accept = 0.0

    def set_accept_enabled(self, enabled):
        if enabled and self._in_flight >= self.cfg.threads:
            # The more requests it has waiting, the longer a worker leaves newcomers to the others.
            waited = time.monotonic() - self._last_accept
            enabled = waited >= BUSY_ACCEPT_SECONDS * (self._in_flight - self.cfg.threads + 1)
        super().set_accept_enabled(enabled)

    def accept(self, listener):
        self._last_accept = time.monotonic()
        super().accept(listener)

    def enqueue_req(self, conn):
        self._in_flight += 1
        self.set_accept_enabled(self._accepting)
        super().enqueue_req(conn)

    def finish_request(self, conn, fs):
        self._in_flight -= 1
        try:
            super().finish_request(conn, fs)
        finally:
            self.set_accept_enabled(self.alive and self.nr_conns < self.worker_connections)
