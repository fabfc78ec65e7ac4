"""A real webhook receiver on 127.0.0.1 for tests: records every request, answers as told, and
verifies signatures the way a merchant's receiver would, with the standardwebhooks library."""

from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    def verified(self, secret: str):
        """The payload, if `secret` verifies the signature (raises WebhookVerificationError if not)."""
        return Webhook(secret).verify(self.body, self.headers)


class _Server(ThreadingHTTPServer):
    # A web server's backlog (nginx: 511), not socketserver's 5: a sender opening eight
    # connections at once would otherwise see one refused and retried a second later.
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A sender that read enough of a long answer closes the connection: not the test's error.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Receiver:
    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        """`tls`: a server context, to answer https (the names TLS clients asked for are kept in
        `server_names`)."""
        self.received: list[Received] = []
        self.server_names: list[str | None] = []
        # What to answer, in turn: (status, body, seconds to wait first); then 200 "ok".
        self.answers: list[tuple[int, str, float]] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as receivers behind a web server answer
            disable_nagle_algorithm = True

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.arrived:
                    receiver.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                    status, text, wait = receiver.answers.pop(0) if receiver.answers else (200, "ok", 0)
                    receiver.arrived.notify_all()
                time.sleep(wait)
                payload = text.encode()
                try:
                    self.send_response(status)
                    if 300 <= status < 400:
                        self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.scheme = "http"
        if tls is not None:
            tls.sni_callback = lambda _socket, name, _context: self.server_names.append(name)
            # Handshakes in each connection's own thread, not in the one that accepts.
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True, do_handshake_on_connect=False)
            self.scheme = "https"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/hooks/exchange"

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def wait_for(self, count: int, timeout: float) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
        return list(self.received)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
