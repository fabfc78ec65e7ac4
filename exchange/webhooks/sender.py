"""One HTTP attempt: POST the signed body to the address that was checked, with short timeouts
and no redirects; what came back, in a few fields for the delivery log.

urllib3 rather than a higher-level client: a delivery is one small POST on a kept-alive
connection, and urllib3 sends it for about a third of httpx's CPU (bench/webhooks.py) — the
delivery process shares the machine with the redemptions.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass

import urllib3
from urllib3 import exceptions

from .ssrf import Address, Target

EXCERPT = 200
USER_AGENT = "PartnerCouponExchange-Webhooks/1"
POOLS = 64  # kept-alive connection pools (one per checked address and name), the least recent dropped


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    latency_ms: int
    excerpt: str | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def client(timeout: float, connections: int, ssl_context: ssl.SSLContext | None = None) -> urllib3.PoolManager:
    """Connection pools that go to the address given and nowhere else: no proxies from the
    environment (a PoolManager has none), no redirects and no retries (a 3xx to 127.0.0.1 would
    undo the check: a redirect is a failed attempt, retried on the delivery's own schedule).
    TLS with the system's CAs, the certificate checked against the URL's name. `connections`:
    how many are kept per pool (as many as threads send at once)."""
    return urllib3.PoolManager(
        num_pools=POOLS, maxsize=connections, block=False, retries=False,
        timeout=urllib3.Timeout(connect=min(timeout, 3.0), read=timeout),
        ssl_context=ssl_context or ssl.create_default_context())


def post(http: urllib3.PoolManager, target: Target, address: Address, headers: dict[str, str],
         body: bytes) -> Answer:
    """Connect to `address` itself (not the name again: DNS could answer differently now), with
    the name in Host and, for https, in TLS's SNI and certificate check."""
    tls = {"server_hostname": target.host, "assert_hostname": target.host} if target.scheme == "https" else None
    pool = http.connection_from_host(str(address), target.port, target.scheme, pool_kwargs=tls)
    started = time.monotonic()
    try:
        response = pool.urlopen("POST", target.path, body=body, redirect=False, retries=False,
                                assert_same_host=False, preload_content=False, headers={
                                    **headers, "Host": target.netloc, "Content-Type": "application/json",
                                    "User-Agent": USER_AGENT})
        try:
            start = response.read(4 * EXCERPT)
        finally:
            # A connection goes back to the pool only once its answer was read to the end.
            if response.length_remaining == 0:
                response.release_conn()
            else:
                response.close()
    except (exceptions.TimeoutError, TimeoutError):
        return Answer(None, _since(started), None, "timed out")
    except (exceptions.HTTPError, OSError) as error:
        return Answer(None, _since(started), None, f"{error.__class__.__name__}: {error}"[:200])
    return Answer(response.status, _since(started), _excerpt(start), None)


def _since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _excerpt(body: bytes) -> str | None:
    text = body.decode("utf-8", errors="replace")
    text = "".join(ch if ch.isprintable() else " " for ch in text)[:EXCERPT]
    return text or None
