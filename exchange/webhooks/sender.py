"""One HTTP attempt: POST the signed body to the address that was checked, with short timeouts
and no redirects; what came back, in a few fields for the delivery log."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from .ssrf import Address, Target

EXCERPT = 200
USER_AGENT = "PartnerCouponExchange-Webhooks/1"


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    latency_ms: int
    excerpt: str | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def client(timeout: float) -> httpx.Client:
    # No proxies from the environment (the request must go to the checked address), no
    # redirects (a 3xx to 127.0.0.1 would undo the check): a redirect is a failed attempt.
    return httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)), follow_redirects=False,
                        trust_env=False)


def post(http: httpx.Client, target: Target, address: Address, headers: dict[str, str], body: bytes) -> Answer:
    """Connect to `address` itself (not the name again: DNS could answer differently now), with
    the name in Host and, for https, in TLS's SNI and certificate check."""
    host = f"[{address}]" if address.version == 6 else str(address)
    url = f"{target.scheme}://{host}:{target.port}{target.path}"
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    request = http.build_request("POST", url, content=body, extensions=extensions, headers={
        **headers, "Host": target.netloc, "Content-Type": "application/json", "User-Agent": USER_AGENT})
    started = time.monotonic()
    try:
        response = http.send(request, stream=True)
        try:
            start = b""
            for chunk in response.iter_bytes():
                start += chunk
                if len(start) >= 4 * EXCERPT:
                    break
        finally:
            response.close()
    except httpx.TimeoutException:
        return Answer(None, _since(started), None, "timed out")
    except httpx.HTTPError as error:
        return Answer(None, _since(started), None, f"{error.__class__.__name__}: {error}"[:200])
    return Answer(response.status_code, _since(started), _excerpt(start), None)


def _since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _excerpt(body: bytes) -> str | None:
    text = body.decode("utf-8", errors="replace")
    text = "".join(ch if ch.isprintable() else " " for ch in text)[:EXCERPT]
    return text or None
