"""Looking at a live server from outside during an outage: one worker at a time, many at once,
and what its processes logged."""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor


class KeepAlive:
    """One HTTP/1.1 connection kept open, so that every request on it is served by the same
    gunicorn worker (a new connection could land on any). Refuses to reconnect silently."""

    def __init__(self, server):
        host, port = server.url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self.conn.connect()
        self._sock = self.conn.sock

    def request(self, method: str, path: str, body=None, key: str | None = None, headers=None):
        headers = dict(headers or {})
        if body is not None:
            headers["Content-Type"] = "application/json"
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self.conn.request(method, path, None if body is None else json.dumps(body), headers)
        response = self.conn.getresponse()
        data = response.read()
        assert self.conn.sock is self._sock, "the server closed the kept-alive connection"
        return response.status, dict(response.getheaders()), data

    def close(self) -> None:
        self.conn.close()


def burst(n: int, call) -> list:
    """`n` calls released at once from `n` threads (so several workers serve them)."""
    gate = threading.Barrier(n)

    def one(i):
        gate.wait()
        return call(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def statuses(results) -> Counter:
    return Counter(status for status, _, _ in results)


def logged(server, message: str) -> Counter:
    """How many times each process (pid) logged `message` (the app's JSON lines)."""
    counts = Counter()
    for line in server.log_path.read_text().splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("message") == message:
                counts[record.get("pid")] += 1
    return counts


def assert_problem(result, status: int, code: str) -> dict:
    got, headers, body = result
    assert got == status, (got, body[:300])
    assert headers["Content-Type"].startswith("application/problem+json"), headers
    document = json.loads(body)
    assert document["status"] == status and document["code"] == code, document
    return document
