"""Redemptions per second through gunicorn ÷ the same server's `/healthz` per second, in the
configuration users run.

Goal (issue 18): ≥ 0.33 on SQLite and ≥ 0.25 on PostgreSQL, with p50/p99 latency, under the
production configuration: `EXCHANGE_ENV=production`, the in-server batch and webhook workers
running, and rate limits counting — in each worker's memory (one server) and in Redis (several
servers) — with limits set high enough that they count every request without refusing one (a
till's own limit is 300 a minute; the load here is hundreds a second from four tills). The
load comes from wrk, a C load generator, so the client is not what is measured. `/healthz` and
redemptions take turns, ROUNDS times SECONDS each, so that both see the same machine: on a
shared machine the CPU available drifts over tens of seconds.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import tempfile
from pathlib import Path

from bench.common import each_database, server_peak_rss_mb
from bench.load import write_lines, wrk

ROUNDS = 6
SECONDS = 3
TILLS = 4
REDIS_URL = "redis://127.0.0.1:6379/14"
LIMITERS = {"in memory": {}, "Redis": {"EXCHANGE_REDIS_URL": REDIS_URL}}
# Counting, never refusing: the load is far above one till's limit.
COUNTING = {"EXCHANGE_REDEMPTION_RATE_LIMIT": "1000000 per minute",
            "EXCHANGE_REDEMPTION_IP_RATE_LIMIT": "1000000 per minute"}


def forget_rate_limits() -> None:
    """Empty the benchmarks' own Redis database: the last run's counts (registrations from this
    address, an hour's window) would refuse this run's merchants."""
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def production_env() -> dict[str, str]:
    return {"EXCHANGE_ENV": "production", "EXCHANGE_LOG_LEVEL": "WARNING", "WEB_CONCURRENCY": "2",
            "EXCHANGE_OPERATOR_KEY": secrets.token_urlsafe(32), "EXCHANGE_PSEUDONYM_KEY": secrets.token_urlsafe(32),
            **COUNTING}


def start_production_server(url: str, tmp: Path, **env):
    """gunicorn as production runs it: its signing key made first, as an operator does."""
    from tests.e2e.conftest import BIN, ROOT, start_server

    env = {**production_env(), **env}
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", "exchange", "rotate-keys"], cwd=ROOT, check=True,
                   capture_output=True, env={**os.environ, **env, "EXCHANGE_DATABASE_URL": url,
                                             "EXCHANGE_SIGNING_KEY_DIR": str(tmp / "keys")})
    return start_server(url, tmp, **env)


def redeemable_world(server, tmp: Path, coupons: int = 1000) -> dict[str, str]:
    """A ¥1-off offer of 100 uses a coupon, `coupons` coupons (100 uses each: a run must not
    redeem more, or it measures refusals) and TILLS till keys at the partner's store: the files
    bench/lua/redeem.lua reads."""
    from tests.e2e.world import issue, stroller_and_maternity

    stroller, maternity, _ = stroller_and_maternity(server)
    status, _, body = server.request("POST", "/api/v1/offers", {
        "title": "压测券", "discount": {"type": "amount", "amount": 100}, "currency": "CNY",
        "valid_from": "2020-01-01T00:00:00+08:00", "valid_until": "2099-01-01T00:00:00+08:00",
        "uses_per_coupon": 100, "allow_free_order": True}, maternity["key"])
    offer = json.loads(body)
    tokens = [c["payload"] for _ in range(coupons // 200) for c in issue(server, stroller, offer, count=200)]
    tills = [json.loads(server.request("POST", f"/api/v1/stores/{maternity['store_id']}/terminal-keys", {},
                                       maternity["key"])[2])["key"] for _ in range(TILLS)]
    return {"BENCH_TOKENS": write_lines(tmp / "tokens.txt", tokens),
            "BENCH_TILLS": write_lines(tmp / "tills.txt", tills), "maternity_key": maternity["key"]}


def alternate(server, files: dict[str, str], rounds: int = ROUNDS, seconds: float = SECONDS) -> dict:
    """`/healthz` and redemptions in turn; totals, each round's ratio, latencies."""
    health, redeem = [], []
    for _ in range(rounds):
        health.append(wrk(f"{server.url}/healthz", "plain.lua", seconds))
        redeem.append(wrk(server.url, "redeem.lua", seconds, BENCH_TOKENS=files["BENCH_TOKENS"],
                          BENCH_TILLS=files["BENCH_TILLS"]))
    health_rps = sum(r.requests for r in health) / sum(r.seconds for r in health)
    redeem_rps = sum(r.requests for r in redeem) / sum(r.seconds for r in redeem)
    return {"healthz_rps": round(health_rps), "redemptions_rps": round(redeem_rps),
            "ratio": round(redeem_rps / health_rps, 3),
            "round_ratios": [round(r.rps / h.rps, 3) for h, r in zip(health, redeem, strict=True)],
            "refused": sum(r.non_2xx + r.socket_errors for r in redeem),
            "redeem_p50_ms": round(statistics.median(r.p50_ms for r in redeem), 2),
            "redeem_p99_ms": round(max(r.p99_ms for r in redeem), 2),
            "healthz_p50_ms": round(statistics.median(h.p50_ms for h in health), 2),
            "healthz_p99_ms": round(max(h.p99_ms for h in health), 2),
            "redemptions": sum(r.requests for r in redeem)}


def run() -> dict:
    from tests.e2e.conftest import stop_server

    results = {}
    for label, url in each_database():
        for limiter, env in LIMITERS.items():
            tmp = Path(tempfile.mkdtemp())
            forget_rate_limits()
            proc, server = start_production_server(url, tmp, **env)
            try:
                files = redeemable_world(server, tmp)
                measured = alternate(server, files)
                measured["worker_peak_rss_mb"] = server_peak_rss_mb(proc.pid)
                measured["ledger_ok"] = server.flask("exchange", "check-ledger").returncode == 0
                results.setdefault(label, {})[limiter] = measured
                print(label, limiter, measured, flush=True)
            finally:
                stop_server(proc)
    return {"rounds": ROUNDS, "seconds": SECONDS, "workers": 2, "tills": TILLS,
            "load": "wrk -t2 -c8 (bench/lua/redeem.lua)",
            "goal": "ratio >= 0.33 (SQLite), >= 0.25 (PostgreSQL)", "results": results}
