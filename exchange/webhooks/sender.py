"""A pass's HTTP attempts: each POSTs the signed body to the address that was checked, with short
timeouts and no redirects; what came back, in a few fields for the delivery log.

libcurl (pycurl) rather than a Python HTTP client: its multi interface sends a whole pass's
deliveries at once from the one calling thread, in C, over kept-alive connections. Python
clients need a thread per delivery in flight, and on a 2-core server those threads' share of the
interpreter lock costs more than the deliveries themselves: bench/webhooks.py measured about
0.7 ms of CPU per delivery through urllib3 with eight threads, 0.05 ms through libcurl, beside
redemptions on the same machine.
"""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass

import pycurl

from .ssrf import Address, Target

EXCERPT = 200
USER_AGENT = "PartnerCouponExchange-Webhooks/1"
KEPT_ALIVE = 64  # connections kept open between passes (one per address and name), the least recent closed
_SELECT_SECONDS = 0.5


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    latency_ms: int
    excerpt: str | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True)
class Request:
    target: Target
    address: Address
    headers: dict[str, str]
    body: bytes


class Client:
    """Sends POSTs `parallel` at a time, each only to the address given: libcurl connects to that
    address (CONNECT_TO) with the URL's name in Host and, for https, in TLS's SNI and certificate
    check (the system's CAs, or `ca_file`). No proxies (not even from the environment), no
    redirects (a 3xx to 127.0.0.1 would undo the check: a redirect is a failed attempt, retried on
    the delivery's own schedule), http and https only. `timeout` bounds a whole attempt; connecting
    gets at most 3 s of it. One pass at a time per client (libcurl's handles belong to one thread
    at a time)."""

    def __init__(self, timeout: float, parallel: int, ca_file: str | None = None) -> None:
        self.timeout = timeout
        self._ca_file = ca_file
        self._multi = pycurl.CurlMulti()
        self._multi.setopt(pycurl.M_MAXCONNECTS, KEPT_ALIVE)
        self._free = [self._handle() for _ in range(parallel)]
        self._lock = threading.Lock()

    def _handle(self) -> pycurl.Curl:
        h = pycurl.Curl()
        for option, value in (
                (pycurl.NOSIGNAL, 1), (pycurl.PROXY, ""), (pycurl.NOPROXY, "*"), (pycurl.FOLLOWLOCATION, 0),
                (pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS),
                (pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1),
                (pycurl.CONNECTTIMEOUT_MS, round(min(self.timeout, 3.0) * 1000)),
                (pycurl.TIMEOUT_MS, round(self.timeout * 1000)),
                _trusting(self._ca_file), (pycurl.SSL_VERIFYPEER, 1), (pycurl.SSL_VERIFYHOST, 2),
                (pycurl.USERAGENT, USER_AGENT), (pycurl.POST, 1)):
            h.setopt(option, value)
        return h

    def post_all(self, requests: list[Request]) -> list[Answer]:
        """Every request's answer, in order."""
        answers: list[Answer | None] = [None] * len(requests)
        with self._lock:
            waiting = list(reversed(list(enumerate(requests))))
            running: dict[pycurl.Curl, tuple[int, _Excerpt]] = {}
            while waiting or running:
                while waiting and self._free:
                    i, request = waiting.pop()
                    handle = self._free.pop()
                    running[handle] = (i, self._prepare(handle, request))
                    self._multi.add_handle(handle)
                while self._multi.perform()[0] == pycurl.E_CALL_MULTI_PERFORM:
                    pass
                for handle, errno, message in self._finished():
                    i, excerpt = running.pop(handle)
                    answers[i] = _answer(handle, errno, message, excerpt)
                    self._multi.remove_handle(handle)
                    self._free.append(handle)
                if running:
                    self._multi.select(_SELECT_SECONDS)
        return answers

    def _prepare(self, h: pycurl.Curl, request: Request) -> _Excerpt:
        target, excerpt = request.target, _Excerpt()
        address = f"[{request.address}]" if request.address.version == 6 else str(request.address)
        host = f"[{target.host}]" if ":" in target.host else target.host
        h.setopt(pycurl.URL, f"{target.scheme}://{target.netloc}{target.path}")
        h.setopt(pycurl.CONNECT_TO, [f"{host}:{target.port}:{address}:{target.port}"])
        # "Expect:" off: curl would otherwise wait for a 100 Continue before a body over 1 KB.
        h.setopt(pycurl.HTTPHEADER, [f"{k}: {v}" for k, v in request.headers.items()] +
                 ["Content-Type: application/json", "Expect:"])
        h.setopt(pycurl.POSTFIELDS, request.body)
        h.setopt(pycurl.WRITEFUNCTION, excerpt.write)
        return excerpt

    def _finished(self):
        while True:
            queued, succeeded, failed = self._multi.info_read()
            yield from ((handle, 0, None) for handle in succeeded)
            yield from failed
            if not queued:
                return

    def close(self) -> None:
        with self._lock:
            for handle in self._free:
                handle.close()
            self._free = []
            self._multi.close()


class _Excerpt:
    """The start of an answer's body; once enough has come the rest is not read (the transfer
    ends there, its connection closed)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0

    @property
    def full(self) -> bool:
        return self.size >= 4 * EXCERPT

    def write(self, data: bytes):
        if self.full:
            return 0  # libcurl stops the transfer: CURLE_WRITE_ERROR, the answer already in
        self.chunks.append(data)
        self.size += len(data)
        return None

    def text(self) -> str | None:
        text = b"".join(self.chunks).decode("utf-8", errors="replace")
        text = "".join(ch if ch.isprintable() else " " for ch in text)[:EXCERPT]
        return text or None


def _answer(h: pycurl.Curl, errno: int, message: str | None, excerpt: _Excerpt) -> Answer:
    latency = round(h.getinfo(pycurl.TOTAL_TIME) * 1000)
    if errno == pycurl.E_WRITE_ERROR and excerpt.full:
        errno = 0  # stopped reading on purpose
    if errno == pycurl.E_OPERATION_TIMEDOUT:
        return Answer(None, latency, None, "timed out")
    if errno:
        return Answer(None, latency, None, f"curl error {errno}: {message}"[:200])
    return Answer(h.getinfo(pycurl.RESPONSE_CODE), latency, excerpt.text(), None)


def _trusting(ca_file: str | None) -> tuple[int, str]:
    """The CAs to trust: `ca_file`, or the system's as Python's OpenSSL finds them (a bundle, else
    a directory) — libcurl's own default is the path its build was made for, which need not exist."""
    if ca_file:
        return pycurl.CAINFO, ca_file
    paths = ssl.get_default_verify_paths()
    return (pycurl.CAINFO, paths.cafile) if paths.cafile else (pycurl.CAPATH, paths.capath or paths.openssl_capath)
