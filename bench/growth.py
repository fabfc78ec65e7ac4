"""Verify, redeem and the customer page with 10 million coupons and 10 million redemptions in the
database ÷ the same with 10 thousand, on PostgreSQL, side by side in one run.

Goal (issue: cost as data grows): each costs at most 20% more at the large size (per-request p50,
and requests per second), every statement using an index: nothing scans a big table. The large
database is built once and kept (`exchange_bench_10m`, see `bench/growth_databases.py`;
`--rebuild` builds it anew); the small one is built afresh each run (seconds), so its spare
coupons never run out. `EXCHANGE_BENCH_GROWTH_SIZE` sets the large size (e.g. 1000000).

Both databases are served at once by gunicorn (2 workers, rate limits off as in the redemption
benchmark), and the loads take turns: each round runs each path on the small, then the large
server (the order flips every round), a fixed number of requests from keep-alive client threads.
Every request names a different coupon, drawn at random over the whole table: spare (never
redeemed) coupons for verify and then redeem, any coupon for the customer page.
Afterwards every statement of one request of each path is run again under
EXPLAIN (ANALYZE, BUFFERS) on the large database, and the benchmark fails if any plan has a
sequential scan of a big table. Beside latency and throughput, which this shared machine makes
noisy, two steadier figures per path and size: the CPU time the gunicorn workers spend per
request, and the PostgreSQL buffers one request's statements touch.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.common import save, summary_ms
from bench.growth_databases import ensure, key_dir, name_for, size_of
from bench.growth_world import coupon_shape, terminal_key

LARGE = int(os.environ.get("EXCHANGE_BENCH_GROWTH_SIZE", "10000000"))
SMALL = 10_000
ROUNDS = 8
REQUESTS = 300   # per path, size and round (the small database has 2,500 spare coupons: 8 rounds use 2,400)
CLIENTS = 8
PATHS = ("verify", "redeem", "page")


def _coupons(url: str, n: int, merchants: int, count: int, *, spare: bool) -> list[tuple[int, str]]:
    """`count` coupons drawn at random over the table (spare: never redeemed), with their tokens."""
    rng = random.Random()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            ids = rng.sample(range(4 if spare else 1, n + 1, 4 if spare else 1), min(count * 2, n // 4))
            rows = conn.execute(text("SELECT id, token FROM coupons WHERE id = ANY(:ids)"
                                     + (" AND uses_left > 0" if spare else "")), {"ids": ids}).all()
    finally:
        engine.dispose()
    rows = [(cid, token) for cid, token in rows]
    rng.shuffle(rows)
    assert len(rows) >= count, f"only {len(rows)} spare coupons left: rebuild with --rebuild"
    return [(coupon_shape(cid, merchants)[1], token) for cid, token in rows[:count]]


def _requests(path: str, coupons: list[tuple[int, str]]):
    """(method, path, body, headers) per coupon."""
    for owner, token in coupons:
        headers = {"Authorization": f"Bearer {terminal_key(owner)}", "Content-Type": "application/json"}
        if path == "verify":
            yield "POST", "/api/v1/redemptions/verify", json.dumps({"payload": token, "order_amount": 25000}), headers
        elif path == "redeem":
            yield "POST", "/api/v1/redemptions", json.dumps(
                {"payload": token, "order_amount": 25000, "order_ref": "BENCH"}), {
                    **headers, "Idempotency-Key": os.urandom(16).hex()}
        else:
            yield "GET", f"/c/{token}", None, {"Accept": "text/html"}


def _load(port: int, requests: list) -> tuple[float, list[float], int]:
    """Requests/s, latencies and failures: `requests` sent by CLIENTS keep-alive connections."""
    queue, lock = iter(requests), threading.Lock()
    latencies, failures = [], [0]

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        while True:
            with lock:
                request = next(queue, None)
            if request is None:
                break
            method, path, body, headers = request
            start = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - start)
            if response.status >= 300:
                with lock:
                    failures[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies) / (time.perf_counter() - began), latencies, failures[0]


def _worker_cpu_s(master_pid: int) -> float:
    """CPU seconds (user + system) the gunicorn master's workers have used so far."""
    ticks = 0
    for task in Path(f"/proc/{master_pid}/task").glob("*/children"):
        for pid in task.read_text().split():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _measure(servers: dict, work: dict, masters: dict) -> dict:
    samples = {size: {p: {"latencies": [], "seconds": 0.0, "failures": 0, "cpu": 0.0} for p in PATHS}
               for size in servers}
    for round_no in range(ROUNDS):
        order = list(servers) if round_no % 2 == 0 else list(servers)[::-1]
        for path in PATHS:
            for size in order:
                batch = work[size][path][round_no * REQUESTS:(round_no + 1) * REQUESTS]
                cpu = _worker_cpu_s(masters[size])
                rps, latencies, failures = _load(servers[size], batch)
                s = samples[size][path]
                used = _worker_cpu_s(masters[size]) - cpu
                s["cpu"] += used
                s["latencies"] += latencies
                s["seconds"] += len(latencies) / rps
                s["failures"] += failures
                s.setdefault("rounds", []).append({"p50": statistics.median(latencies), "rps": rps,
                                                   "cpu": used / len(latencies)})
    out = {}
    for size, by_path in samples.items():
        out[size] = {}
        for path, s in by_path.items():
            stats = summary_ms(s["latencies"])
            out[size][path] = {"rps": round(len(s["latencies"]) / s["seconds"], 1), "p50_ms": stats["median_ms"],
                               "p99_ms": stats["p99_ms"], "n": stats["n"], "failures": s["failures"],
                               "worker_cpu_ms": round(s["cpu"] * 1000 / stats["n"], 2), "rounds": s["rounds"]}
    return out


def _ratios(results: dict) -> dict:
    """Large ÷ small per path: each round's ratio (the two sizes ran back to back in it), and
    their median — a burst of the shared machine's other work lands in one round, not in all."""
    out = {}
    for p in PATHS:
        large, small = results["large"][p].pop("rounds"), results["small"][p].pop("rounds")
        rounds = {k: [b[k] / a[k] for a, b in zip(small, large, strict=True)] for k in ("cpu", "p50", "rps")}
        out[p] = {**{k: round(statistics.median(v), 3) for k, v in rounds.items()},
                  "p99": round(results["large"][p]["p99_ms"] / results["small"][p]["p99_ms"], 3),
                  "rounds": {k: [round(x, 2) for x in v] for k, v in rounds.items()}}
    return out


def run(rebuild: bool | None = None) -> dict:
    from tests.e2e.conftest import start_server, stop_server

    rebuild = "--rebuild" in sys.argv if rebuild is None else rebuild
    built = {}
    for n, again in ((SMALL, True), (LARGE, rebuild)):
        url, meta = ensure(n, rebuild=again)
        built[n] = {"url": url, "meta": meta}
    labels = {SMALL: "small", LARGE: "large"}
    procs, servers, work, masters = [], {}, {}, {}
    try:
        for n, b in built.items():
            tmp = Path(tempfile.mkdtemp())
            key_dir(b["meta"], tmp / "keys")
            merchants = b["meta"]["merchants"]
            # Each round verifies, then redeems, the same coupons (as a till does).
            spare = _coupons(b["url"], n, merchants, ROUNDS * REQUESTS + 1, spare=True)
            shown = _coupons(b["url"], n, merchants, ROUNDS * REQUESTS + 1, spare=False)
            work[labels[n]] = {"verify": list(_requests("verify", spare[:-1])),
                               "redeem": list(_requests("redeem", spare[:-1])),
                               "page": list(_requests("page", shown[:-1]))}
            b["probe"] = {"spare": spare[-1], "shown": shown[-1], "keys": tmp / "keys"}
            proc, server = start_server(b["url"], tmp, EXCHANGE_LOG_LEVEL="WARNING", WEB_CONCURRENCY="2",
                                        EXCHANGE_REDEMPTION_RATE_LIMIT="off",
                                        EXCHANGE_REDEMPTION_IP_RATE_LIMIT="off")
            procs.append(proc)
            servers[labels[n]] = int(server.url.rsplit(":", 1)[1])
            masters[labels[n]] = proc.pid
        results = _measure(servers, work, masters)
    finally:
        for proc in procs:
            stop_server(proc)
    ratios = _ratios(results)
    print(json.dumps({"results": results, "ratios": ratios}), flush=True)
    plans = _plans(built[LARGE])
    # The database's side of the cost, free of the machine's noise: buffers each path touches.
    small_plans = _plans(built[SMALL])
    buffers = {size: {p: sum(st["shared_hit"] + st["shared_read"] for st in sts) for p, sts in ps.items()}
               for size, ps in (("small", small_plans), ("large", plans))}
    for p in PATHS:
        ratios[p]["buffers"] = round(buffers["large"][p] / buffers["small"][p], 3)
    scanned = {p: [s["statement"] for s in statements if s["seq_scans_on_big_tables"]]
               for p, statements in plans.items()}
    out = {"sizes": {"small": _size(built[SMALL]), "large": _size(built[LARGE])}, "rounds": ROUNDS,
           "requests_per_round": REQUESTS, "clients": CLIENTS, "workers": 2, "results": results, "ratios": ratios,
           "goal": "large ÷ small ≤ 1.2 in p50 and in requests/s, no sequential scan of a big table",
           "plans": plans, "buffers": buffers, "seq_scans": scanned}
    print(json.dumps({"buffers": buffers, "ratios": ratios, "seq_scans": scanned}), flush=True)
    assert not any(scanned.values()), f"sequential scans of big tables: {scanned}"
    return out


def _size(b: dict) -> dict:
    meta = {k: v for k, v in b["meta"].items() if k != "pem"}
    return {**meta, "database": name_for(meta["coupons"]), **size_of(b["url"])}


def _plans(b: dict) -> dict:
    from sqlalchemy.engine import make_url

    from bench.growth_plans import plans_at
    from exchange import create_app

    app = create_app({"DATABASE_URL": b["url"], "SIGNING_KEY_DIR": str(b["probe"]["keys"]),
                      "REDEMPTION_RATE_LIMIT": "off", "REDEMPTION_IP_RATE_LIMIT": "off"})
    (owner, token), (_, shown) = b["probe"]["spare"], b["probe"]["shown"]
    verify, redeem, page = (next(_requests(p, [c])) for p, c in
                            (("verify", (owner, token)), ("redeem", (owner, token)), ("page", (0, shown))))
    requests = {"verify": verify, "redeem": redeem, "page": page}
    dsn = make_url(b["url"]).set(drivername="postgresql").render_as_string(hide_password=False)
    return plans_at(app, dsn, {name: (m, p, body, headers) for name, (m, p, body, headers) in requests.items()})


if __name__ == "__main__":
    save("growth", run())  # prefer `python -m bench growth`, which also records peak memory
