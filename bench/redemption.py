"""Redemptions per second through gunicorn ÷ the same server's `/healthz` per second.

Goal (issue: redemption): ≥ 0.33 on SQLite and ≥ 0.25 on PostgreSQL, with p50/p99 latency.
gunicorn runs 2 workers (gthread); the load comes from keep-alive connections in client
threads on loopback. `/healthz` and redemptions take turns, ROUNDS times SECONDS each, so that
both see the same machine: on a shared machine the CPU available drifts over tens of seconds,
and one long run of each would measure the drift as much as the server.
"""

from __future__ import annotations

import http.client
import json
import tempfile
import threading
import time
import uuid
from pathlib import Path

from bench.common import each_database, save, server_peak_rss_mb

ROUNDS = 4
SECONDS = 2.5
CLIENTS = 8


def _load(port: int, make_request, seconds: float) -> tuple[float, list[float], int]:
    """Requests per second, latencies and errors, from CLIENTS keep-alive connections."""
    latencies, errors = [], [0]
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.monotonic() < stop:
            method, path, body, headers = make_request()
            start = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - start)
            if response.status >= 300:
                with lock:
                    errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies) / (time.monotonic() - began), latencies, errors[0]


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000, 2)


def run() -> dict:
    from tests.e2e.conftest import start_server, stop_server
    from tests.e2e.world import issue, stroller_and_maternity

    results = {}
    for label, url in each_database():
        tmp = Path(tempfile.mkdtemp())
        # Hundreds of redemptions a second from one key: the till-sized rate limits are off.
        proc, server = start_server(url, tmp, EXCHANGE_LOG_LEVEL="WARNING", WEB_CONCURRENCY="2",
                                    EXCHANGE_REDEMPTION_RATE_LIMIT="off", EXCHANGE_REDEMPTION_IP_RATE_LIMIT="off")
        try:
            stroller, maternity, _ = stroller_and_maternity(server)
            status, _, body = server.request("POST", "/api/v1/offers", {
                "title": "压测券", "discount": {"type": "amount", "amount": 100}, "currency": "CNY",
                "valid_from": "2020-01-01T00:00:00+08:00", "valid_until": "2099-01-01T00:00:00+08:00",
                "uses_per_coupon": 100, "allow_free_order": True}, maternity["key"])
            offer = json.loads(body)
            tokens = [c["payload"] for _ in range(5) for c in issue(server, stroller, offer, count=200)]
            status, _, body = server.request("POST", f"/api/v1/stores/{maternity['store_id']}/terminal-keys",
                                             {}, maternity["key"])
            till = json.loads(body)["key"]
            port = int(server.url.rsplit(":", 1)[1])
            counter = iter(range(10**9))

            def redemption(counter=counter, tokens=tokens, till=till):
                n = next(counter)
                body = json.dumps({"payload": tokens[n % len(tokens)], "order_amount": 10000})
                return "POST", "/api/v1/redemptions", body, {
                    "Authorization": f"Bearer {till}", "Content-Type": "application/json",
                    "Idempotency-Key": str(uuid.uuid4())}

            health_lat, redeem_lat, ratios, errors = [], [], [], 0
            health_time = redeem_time = 0.0
            for _ in range(ROUNDS):
                rps, latencies, _ = _load(port, lambda: ("GET", "/healthz", None, {}), SECONDS)
                health_lat += latencies
                health_time += len(latencies) / rps
                rps_r, latencies, refused = _load(port, redemption, SECONDS)
                redeem_lat += latencies
                redeem_time += len(latencies) / rps_r
                errors += refused
                ratios.append(rps_r / rps)
            health_rps, redeem_rps = len(health_lat) / health_time, len(redeem_lat) / redeem_time
            worker_peak = server_peak_rss_mb(proc.pid)
            check = server.flask("exchange", "check-ledger")
            results[label] = {
                "healthz_rps": round(health_rps), "redemptions_rps": round(redeem_rps),
                "ratio": round(redeem_rps / health_rps, 3), "refused": errors,
                "round_ratios": [round(x, 3) for x in ratios],
                "redeem_p50_ms": _pct(redeem_lat, 0.5), "redeem_p99_ms": _pct(redeem_lat, 0.99),
                "healthz_p50_ms": _pct(health_lat, 0.5), "healthz_p99_ms": _pct(health_lat, 0.99),
                "ledger_ok": check.returncode == 0, "worker_peak_rss_mb": worker_peak}
            print(label, results[label], flush=True)
        finally:
            stop_server(proc)
    return {"rounds": ROUNDS, "seconds": SECONDS, "clients": CLIENTS, "workers": 2,
            "goal": "ratio >= 0.33 (SQLite), >= 0.25 (PostgreSQL)", "results": results}


if __name__ == "__main__":
    save("redemption", run())  # prefer `python -m bench redemption`, which also records peak memory
