"""Where rate limits are counted, and what happens when that store (Redis) is away.

Tills must keep redeeming when Redis is down (SPEC §4.12). Flask-Limiter's in-memory fallback
(`RATELIMIT_IN_MEMORY_FALLBACK_ENABLED`, set whenever `EXCHANGE_REDIS_URL` is) counts in each
worker's memory while the store cannot be reached: every limit still holds within a process,
so a server lets through at most its number of workers times a limit. Meanwhile Flask-Limiter's
before-request hook pings the store now and then (1, 2, 4 … 32 s apart, on whichever request
comes) and goes back to it when it answers.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import flask_limiter
from limits.storage import MemoryStorage
from limits.strategies import RateLimiter

log = logging.getLogger("exchange.http.ratelimits")
T = TypeVar("T")
# A store that is down must cost a request little: connection refused is immediate, but an
# address that does not answer would otherwise hold each request for the OS's connect timeout.
STORE_TIMEOUT_SECONDS = 0.5


class Limiter(flask_limiter.Limiter):
    """Flask-Limiter, saying when its shared store is away.

    Flask-Limiter keeps "the store is down, count in memory" in its attribute `_storage_dead`.
    Catching the assignments to it gives `/healthz` a flag that the failure itself sets and the
    recovery clears (health reads it; it does not ask Redis), and the log one line per change
    instead of one per request. (Flask-Limiter's own messages go to a logger with only a
    NullHandler.) The version is pinned; `tests/e2e/test_rate_limit_store_outage.py` would
    notice if this attribute changed meaning.
    """

    _degraded = False

    @property
    def degraded(self) -> bool:
        """True while limits are counted per process because the shared store is away."""
        return self._degraded

    @property
    def _storage_dead(self) -> bool:
        return self._degraded

    @_storage_dead.setter
    def _storage_dead(self, dead: bool) -> None:
        if dead == self._degraded:
            return
        self._degraded = dead
        if dead:
            log.warning("rate-limit store unreachable: counting limits in this process until it answers",
                        extra={"pid": os.getpid()})
        else:
            log.info("rate-limit store reachable again: limits are shared again", extra={"pid": os.getpid()})

    def count(self, step: Callable[[RateLimiter], T]) -> T:
        """`step(strategy)` on the store limits are counted in now, for counts Flask-Limiter's
        decorators do not make (failed authentications). A store failure switches to memory
        just as Flask-Limiter's own checks do (and its probes switch back)."""
        try:
            return step(self.limiter)
        except Exception:
            if self._degraded or not self._in_memory_fallback_enabled:
                raise
            self._storage_dead = True
            return step(self.limiter)


class SweptMemoryStorage(MemoryStorage):
    """The limits library's in-memory store (`exchange-memory://`, the default without Redis),
    its lapsed windows swept inline at most once a second instead of by a timer thread started
    anew 10 ms after the last one ended: under load that was about a hundred threads a second
    in each worker, each wanting the interpreter lock while requests ran. A count's own lapse
    is unchanged — the store checks it on every read (`get`) — the sweep only frees memory.
    (The library calls its private `__schedule_expiry` on every count; the version is pinned,
    and `tests/unit/test_ratelimit_store.py` would notice it starting threads again.)"""

    STORAGE_SCHEME = ["exchange-memory"]
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, **options) -> None:
        super().__init__(uri, **options)
        self._next_sweep = 0.0
        self._sweep_lock = threading.Lock()

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the library's timer thread
        now = time.monotonic()
        if now < self._next_sweep or not self._sweep_lock.acquire(blocking=False):
            return
        try:
            self._next_sweep = now + self.SWEEP_SECONDS
            self._MemoryStorage__expire_events()
        finally:
            self._sweep_lock.release()


def storage_options(uri: str) -> dict:
    """Options for the store's client: short timeouts, and one immediate retry (a pooled
    connection that Redis closed when it restarted is reopened at once)."""
    if not uri.startswith(("redis://", "rediss://", "redis+unix://")):
        return {}
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return {"socket_connect_timeout": STORE_TIMEOUT_SECONDS, "socket_timeout": STORE_TIMEOUT_SECONDS,
            "retry": Retry(NoBackoff(), 1)}
