"""The rate-limit store going away and coming back, for the counts the exchange makes itself
(failed authentications): they fall back to memory, say so once, and return to Redis when
Flask-Limiter's probe finds it again. The route limits' own fallback, through gunicorn:
tests/e2e/test_rate_limit_store_outage.py."""

import logging
import time

from flask import Flask
from limits import parse

from exchange.http import ratelimit_store
from exchange.http.ratelimit_store import Limiter, storage_options
from tests.e2e.helper_servers import RedisServer


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _limiter(url: str) -> tuple[Limiter, Flask]:
    app = Flask(__name__)
    app.config.update(RATELIMIT_STORAGE_URI=url, RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
                      RATELIMIT_STORAGE_OPTIONS=storage_options(url))
    limiter = Limiter(key_func=lambda: "test")
    limiter.init_app(app)
    app.add_url_rule("/anything", "anything", lambda: "")
    return limiter, app


def test_counts_fall_back_to_memory_while_redis_is_away_and_go_back_to_it(tmp_path):
    store = RedisServer(tmp_path)  # not started yet: the store is away
    (limiter, app), limit = _limiter(store.url), parse("3 per minute")
    lines = _Lines()
    ratelimit_store.log.addHandler(lines)
    level = ratelimit_store.log.level
    ratelimit_store.log.setLevel(logging.INFO)
    try:
        assert not limiter.degraded
        # Limits still hold while it is away, counted in this process.
        assert [limiter.count(lambda s: s.hit(limit, "k")) for _ in range(4)] == [True, True, True, False]
        assert limiter.degraded
        store.start()
        try:
            # Any request lets Flask-Limiter ping the store, at most every 1, 2, 4 … s.
            deadline = time.monotonic() + 10
            while limiter.degraded:
                assert time.monotonic() < deadline, "the store was not found again"
                app.test_client().get("/anything")
                time.sleep(0.2)
            assert limiter.count(lambda s: s.hit(limit, "k")) is True  # a fresh count, in Redis
            assert store.keys("LIMITS*"), "not counted in Redis"
        finally:
            store.stop()
    finally:
        ratelimit_store.log.removeHandler(lines)
        ratelimit_store.log.setLevel(level)
    assert lines.messages == ["rate-limit store unreachable: counting limits in this process until it answers",
                              "rate-limit store reachable again: limits are shared again"]


def test_a_store_that_does_not_answer_costs_a_request_little():
    options = storage_options("redis://10.255.255.1:6379/0")
    assert options["socket_connect_timeout"] <= 0.5 and options["socket_timeout"] <= 0.5
    assert storage_options("memory://") == {}


def test_the_money_paths_limits_and_throttle_cost_one_round_trip_and_count_as_the_library_does(tmp_path,
                                                                                               monkeypatch):
    """Verify and redeem hit two limits and read the address's failed authentications: in Redis
    one pipeline, counted exactly as the limits library's own fixed window counts (its keys and
    its increment script, on any Redis with scripting), so either may count the same limit."""
    import redis
    from limits.storage import RedisStorage
    from limits.strategies import FixedWindowRateLimiter

    from exchange.http.ratelimits import _count_together

    store = RedisServer(tmp_path).start()
    try:
        strategy = FixedWindowRateLimiter(RedisStorage(store.url))
        per_key, per_address, throttle = parse("3 per minute"), parse("5 per hour"), parse("2 per hour")
        hits = [(per_key, ("redeem", "key:a")), (per_address, ("redeem", "ip:10.0.0.1"))]
        peek = (throttle, ("auth-failures", "ip:10.0.0.1"))
        # Before the script is loaded (a Redis just started): counted all the same.
        store_client = redis.Redis.from_url(store.url)
        assert store_client.script_exists(strategy.storage.lua_incr_expire.sha) == [False]
        assert _count_together(strategy, hits, peek) == ([True, True], True)
        assert _count_together(strategy, hits, peek) == ([True, True], True)
        assert strategy.get_window_stats(per_key, "redeem", "key:a").remaining == 1
        store_client.flushdb()
        trips = []
        send = redis.connection.Connection.send_packed_command
        monkeypatch.setattr(redis.connection.Connection, "send_packed_command",
                            lambda self, *a, **k: trips.append(1) or send(self, *a, **k))
        assert _count_together(strategy, hits, peek) == ([True, True], True)
        assert len(trips) == 1
        assert strategy.hit(per_key, "redeem", "key:a")  # the library's own count goes on from 1
        assert _count_together(strategy, hits, peek) == ([True, True], True)
        assert _count_together(strategy, hits, peek) == ([False, True], True)  # the key's 4th in a minute
        assert strategy.get_window_stats(per_key, "redeem", "key:a").remaining == 0
        ttl = store_client.ttl(strategy.storage.prefixed_key(per_key.key_for("redeem", "key:a")))
        assert 0 < ttl <= 60
        strategy.hit(throttle, "auth-failures", "ip:10.0.0.1")
        strategy.hit(throttle, "auth-failures", "ip:10.0.0.1")
        assert _count_together(strategy, hits, peek)[1] is False  # the address is throttled now
        assert not strategy.test(throttle, "auth-failures", "ip:10.0.0.1")
    finally:
        store.stop()


def test_the_money_paths_counts_in_memory_are_the_strategys_own():
    from limits.storage import MemoryStorage
    from limits.strategies import FixedWindowRateLimiter

    from exchange.http.ratelimits import _count_together

    strategy, limit = FixedWindowRateLimiter(MemoryStorage()), parse("1 per minute")
    assert _count_together(strategy, [(limit, ("redeem", "key:a"))], None) == ([True], None)
    assert _count_together(strategy, [(limit, ("redeem", "key:a"))], (limit, ("auth", "ip"))) == ([False], True)


def test_the_default_store_counts_in_memory_without_starting_a_thread_per_window(monkeypatch):
    """The limits library's in-memory store started a timer thread 10 ms after the last one
    ended, on every count: about a hundred threads a second per worker under load. Ours sweeps
    lapsed windows inline, at most once a second; a lapsed count still starts afresh at once."""
    import threading

    from limits.strategies import FixedWindowRateLimiter

    from config import load_config
    from exchange.http.ratelimit_store import SweptMemoryStorage

    assert load_config({"EXCHANGE_ENV": "development"})["RATELIMIT_STORAGE_URI"] == "exchange-memory://"
    from limits.storage import storage_from_string

    storage = storage_from_string("exchange-memory://")
    assert isinstance(storage, SweptMemoryStorage)
    strategy, limit = FixedWindowRateLimiter(storage), parse("2 per second")
    started = []
    monkeypatch.setattr(threading.Timer, "start", lambda self: started.append(self))
    clock = [1000.0]
    monkeypatch.setattr(ratelimit_store.time, "monotonic", lambda: clock[0])
    for n in range(200):
        strategy.hit(limit, f"key-{n}")
    assert started == []
    assert [strategy.hit(limit, "till") for _ in range(3)] == [True, True, False]
    time.sleep(1.05)  # the window lapses (the library's windows run on real time)
    assert strategy.hit(limit, "till") is True  # read afresh, swept or not
    assert "LIMITER/till/2/1/second" in storage.storage
    clock[0] += 0.5
    strategy.hit(limit, "other")  # within a second of the last sweep: nothing swept
    assert "LIMITER/key-0/2/1/second" in storage.storage
    clock[0] += 1.0
    strategy.hit(limit, "other")  # a second on: the lapsed windows are gone
    assert "LIMITER/key-0/2/1/second" not in storage.storage
    assert started == []


def test_the_apps_limits_count_in_the_swept_store(app):
    from exchange.extensions import limiter
    from exchange.http.ratelimit_store import SweptMemoryStorage

    assert isinstance(limiter.limiter.storage, SweptMemoryStorage)
