"""The redemption benchmark with two webhook endpoints subscribed to `coupon.redeemed` ÷ the same
without any, through the same gunicorn in the same run; and deliveries per second to a local
receiver.

Goal (issue 16): with two endpoints a redemption costs at most 5% more than without (ratio
≥ 0.95). The server runs as in bench.redemption (production settings, rate limits counting in
Redis, load from wrk) except that it is allowed to deliver to the receiver on loopback
(`EXCHANGE_ENV=development` with `EXCHANGE_WEBHOOK_ALLOW_PRIVATE=1`: production refuses private
targets). The endpoints exist throughout and are switched on and off between rounds, which
alternate, so that both see the same machine. With them on, the server's delivery process sends
to the receiver meanwhile; its CPU is reported per delivery, and the time the deliveries took to
catch up once the load stopped: how many were delivered while it ran, and how fast the rest
went once it stopped.

The receiver is Debian's nginx answering 204 to every POST: a merchant's receiver runs on the
merchant's machine, so here it must cost next to nothing beside the server measured (a Python
receiver on this 2-core machine took CPU from the workers at the same priority). A delivery
counts once the exchange has recorded it succeeded, i.e. the receiver answered 2xx; the tests
(tests/api/test_webhook_deliveries.py) verify every signature with the standardwebhooks library.
"""

from __future__ import annotations

import json
import os
import random
import resource
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.common import each_database
from bench.load import wrk
from bench.redemption import REDIS_URL, forget_rate_limits, redeemable_world, start_production_server

# Rounds take turns without and with, in the order ABBA (off-on, on-off, ...): whatever drifts
# or happens once (a WAL checkpoint, a stall of this virtual machine) falls on both sides alike.
# Many of them: on a virtual machine whose speed drifts from one second to the next, two rounds
# of the very same server differ by up to 40%.
ROUNDS = 64
SECONDS = 3
# Enough uses for every round at up to 1,500 redemptions a second (64 × 2 × 3 s × 1,500 ÷ 100
# uses a coupon = 5,760 coupons), each round taking them on from where the last one stopped: a
# coupon used up answers 409, and a round of refusals would be measured as if it were
# redemptions (and writes no event).
COUPONS = 6000


def rate(runs) -> float:
    return sum(r.requests for r in runs) / sum(r.seconds for r in runs)


def interval(pairs: list[tuple], *, resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """A 95% bootstrap interval of the ratio of totals over (without, with) pairs of rounds (wrk
    runs): how precisely this run's rounds tell the ratio."""
    rng = random.Random(seed)
    ratios = sorted(rate([b for _, b in sample]) / rate([a for a, _ in sample])
                    for sample in (rng.choices(pairs, k=len(pairs)) for _ in range(resamples)))
    return ratios[int(0.025 * resamples)], ratios[int(0.975 * resamples) - 1]


def _cpu_seconds(pid: int | str) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_cpu_seconds() -> float:
    """Busy CPU time of the whole machine since boot (/proc/stat, time stolen by the host left out)
    less this process's and that of the wrk runs it waited for: the server's, its database's and
    the receiver's."""
    user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in Path("/proc/stat").read_text().split()[1:8])
    own, waited = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return ((user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")
            - own.ru_utime - own.ru_stime - waited.ru_utime - waited.ru_stime)


def _children(master_pid: int) -> dict[str, list[str]]:
    """A gunicorn master's children: its request workers and its delivery process."""
    found = {"workers": [], "delivery": []}
    for task in Path(f"/proc/{master_pid}/task").glob("*/children"):
        for pid in task.read_text().split():
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            found["delivery" if b"deliver" in cmdline else "workers"].append(pid)
    return found


def answering_204(listen: str) -> str:
    return f"""server {{
    listen {listen};
    access_log off;
    location / {{ return 204; }}
}}
"""


class Outbox:
    """The exchange's events and deliveries, read from its database."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)

    def _scalar(self, sql: str) -> int:
        with self.engine.connect() as conn:
            return conn.scalar(text(sql))

    def delivered(self) -> int:
        return self._scalar("SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded'")

    def not_delivered(self) -> int:
        return self._scalar("SELECT count(*) FROM webhook_deliveries WHERE status <> 'succeeded'")

    def settle(self, timeout: float = 120) -> float:
        """Wait until every event is numbered and no delivery waits; how long that took. Each
        round begins and ends settled: a round's events are relayed (and delivered) in its own
        time, never in the next round's, whose endpoints may be switched the other way."""
        began = time.monotonic()
        while self._scalar("SELECT (SELECT count(*) FROM events WHERE seq IS NULL) + (SELECT count(*) FROM "
                           "webhook_deliveries WHERE status = 'pending')") and time.monotonic() - began < timeout:
            time.sleep(0.02)
        return time.monotonic() - began


PASSES, PER_PASS = 32, 64


def senders(receiver_url: str) -> dict:
    """The sending alone, outside any server: passes of 64 signed-size POSTs to the nginx
    receiver, CPU time per POST of this process and POSTs per second, through the exchange's
    client (libcurl's multi interface, from one thread) and through urllib3 with eight threads,
    what it replaced (a thread per delivery in flight: their share of the interpreter lock is most
    of the cost)."""
    import ipaddress
    from concurrent.futures import ThreadPoolExecutor

    import urllib3

    from exchange.webhooks import sender, ssrf

    target = ssrf.parse(receiver_url + "/hooks", https_only=False)
    address = ipaddress.ip_address("127.0.0.1")
    body = json.dumps({"data": "x" * 1200}).encode()
    headers = {"webhook-id": "evt_01J9ZQ5R6Y8K2M4N6P8R0T2V4X", "webhook-timestamp": "1764633600",
               "webhook-signature": "v1," + "A" * 44}

    client = sender.Client(5.0, 8)
    requests = [sender.Request(target, address, headers, body)] * PER_PASS

    def libcurl() -> None:
        assert all(a.ok for a in client.post_all(requests))

    pool = urllib3.PoolManager(maxsize=8, block=False, retries=False, timeout=urllib3.Timeout(connect=3, read=5))
    threads = ThreadPoolExecutor(8)

    def one(_) -> None:
        response = pool.connection_from_host(str(address), target.port, "http").urlopen(
            "POST", target.path, body=body, headers={**headers, "Content-Type": "application/json"},
            redirect=False, retries=False, preload_content=False)
        response.read(800)
        response.release_conn()
        assert response.status == 204

    def eight_threads() -> None:
        list(threads.map(one, range(PER_PASS)))

    measured = {}
    for name, send in (("libcurl_multi", libcurl), ("urllib3_8_threads", eight_threads)):
        send()  # connections opened
        cpu, began = time.process_time(), time.monotonic()
        for _ in range(PASSES):
            send()
        n = PASSES * PER_PASS
        measured[name] = {"cpu_us_per_post": round(1e6 * (time.process_time() - cpu) / n),
                          "posts_per_s": round(n / (time.monotonic() - began))}
    client.close()
    threads.shutdown()
    return measured


def run() -> dict:
    from tests.e2e.conftest import stop_server
    from tests.e2e.reverse_proxy import Nginx

    results = {}
    tmp = Path(tempfile.mkdtemp())
    receiver = Nginx(tmp / "sender", site=answering_204).start()
    try:
        sending = senders(receiver.url)
    finally:
        receiver.stop()
    print("senders", sending, flush=True)
    for label, url in each_database():
        tmp = Path(tempfile.mkdtemp())
        forget_rate_limits()
        receiver = Nginx(tmp / "receiver", site=answering_204).start()
        outbox = Outbox(url)
        try:
            proc, server = start_production_server(url, tmp, EXCHANGE_ENV="development",
                                                   EXCHANGE_WEBHOOK_ALLOW_PRIVATE="1", EXCHANGE_REDIS_URL=REDIS_URL)
            try:
                files = redeemable_world(server, tmp, COUPONS)
                owner = files["maternity_key"]
                endpoints = [json.loads(server.request("POST", "/api/v1/webhook-endpoints", {
                    "url": f"{receiver.url}/hooks?n={n}", "event_types": ["coupon.redeemed"], "enabled": False},
                    owner)[2])["id"] for n in range(2)]

                def switch(on: bool, endpoints=endpoints, server=server, owner=owner) -> None:
                    for endpoint in endpoints:
                        server.request("PATCH", f"/api/v1/webhook-endpoints/{endpoint}", {"enabled": on}, owner)

                kids = _children(proc.pid)
                runs = {False: [], True: []}
                cpu = {False: 0.0, True: 0.0}
                machine_cpu = {False: 0.0, True: 0.0}  # the round and its settling, deliveries made after it included
                delivery_cpu, deliveries, during, catch_up = 0.0, 0, 0, []
                sent = 0  # requests so far: where the next round's coupons begin
                outbox.settle()  # the world's own events, and the delivery process started
                for n in range(ROUNDS):
                    for on in ((False, True) if n % 2 == 0 else (True, False)):
                        switch(on)
                        outbox.settle()
                        used = sum(_cpu_seconds(p) for p in kids["workers"])
                        machine = _machine_cpu_seconds()
                        delivering = sum(_cpu_seconds(p) for p in kids["delivery"])
                        before = outbox.delivered()
                        r = wrk(server.url, "redeem.lua", SECONDS, BENCH_START=str(sent),
                                BENCH_TOKENS=files["BENCH_TOKENS"], BENCH_TILLS=files["BENCH_TILLS"])
                        sent += r.requests
                        cpu[on] += sum(_cpu_seconds(p) for p in kids["workers"]) - used
                        runs[on].append(r)
                        loaded = outbox.delivered()
                        # The round's events relayed and delivered before the next round begins;
                        # the delivery process is charged for them.
                        waited = outbox.settle()
                        machine_cpu[on] += _machine_cpu_seconds() - machine
                        if on:
                            during += loaded - before
                            deliveries += outbox.delivered() - before
                            catch_up.append(waited)
                            delivery_cpu += sum(_cpu_seconds(p) for p in kids["delivery"]) - delivering
                switch(False)
                rps = {on: rate(runs[on]) for on in runs}
                pairs = list(zip(runs[False], runs[True], strict=True))
                count = {on: sum(r.requests for r in runs[on]) for on in runs}
                cpu_ms = {on: 1000 * cpu[on] / count[on] for on in runs}
                results[label] = {
                    "redemptions_rps_without": round(rps[False]), "redemptions_rps_with_two": round(rps[True]),
                    "ratio": round(rps[True] / rps[False], 3),
                    "ratio_95_interval": [round(x, 3) for x in interval(pairs)],
                    "round_ratios": [round(b.rps / a.rps, 3) for a, b in zip(runs[False], runs[True], strict=True)],
                    "median_round_ratio": round(statistics.median(
                        b.rps / a.rps for a, b in zip(runs[False], runs[True], strict=True)), 3),
                    "worker_cpu_ms_per_redemption_without": round(cpu_ms[False], 2),
                    "worker_cpu_ms_per_redemption_with_two": round(cpu_ms[True], 2),
                    "worker_cpu_ratio": round(cpu_ms[True] / cpu_ms[False], 3),
                    "delivery_cpu_ms_per_delivery": round(1000 * delivery_cpu / max(deliveries, 1), 3),
                    "machine_cpu_ms_per_redemption_without": round(1000 * machine_cpu[False] / count[False], 2),
                    "machine_cpu_ms_per_redemption_with_two": round(1000 * machine_cpu[True] / count[True], 2),
                    "machine_cpu_ratio": round(machine_cpu[True] / count[True] / (machine_cpu[False] / count[False]),
                                               3),
                    "redeem_p50_ms_without": round(statistics.median(r.p50_ms for r in runs[False]), 1),
                    "redeem_p50_ms_with_two": round(statistics.median(r.p50_ms for r in runs[True]), 1),
                    "redeem_p99_ms_without": round(max(r.p99_ms for r in runs[False]), 1),
                    "redeem_p99_ms_with_two": round(max(r.p99_ms for r in runs[True]), 1),
                    # Every redemption answered 2xx in a round with endpoints: two deliveries (a
                    # redemption wrk gave up on as the round ended may still have been made).
                    "refused": sum(r.non_2xx + r.socket_errors for on in runs for r in runs[on]),
                    "deliveries": deliveries, "expected_deliveries": (expected := 2 * sum(
                        r.requests - r.non_2xx for r in runs[True])),
                    "all_delivered": deliveries >= expected and outbox.not_delivered() == 0,
                    "caught_up_after_s": round(statistics.median(catch_up), 2),
                    "deliveries_due_per_s": round(deliveries / sum(r.seconds for r in runs[True])),
                    "delivered_per_s_while_loaded": round(during / sum(r.seconds for r in runs[True])),
                    "delivered_per_s_after": round((deliveries - during) / max(sum(catch_up), 1e-3))}
                print(label, results[label], flush=True)
            finally:
                stop_server(proc)
        finally:
            receiver.stop()
            outbox.engine.dispose()
    return {"rounds": ROUNDS, "seconds": SECONDS, "workers": 2, "load": "wrk -t2 -c8 (bench/lua/redeem.lua)",
            "goal": "with two endpoints, redemptions/s ≥ 0.95× without", "results": results,
            "senders": sending, "passes": PASSES, "per_pass": PER_PASS}
