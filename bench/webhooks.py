"""Redemptions per second with two webhook endpoints subscribed to `coupon.redeemed` ÷ without
any, through the same gunicorn in the same run; and delivery throughput to a local receiver.

Goal (issue 16): the redemption benchmark with two endpoints costs at most 5% more than
without (ratio ≥ 0.95). The endpoints exist throughout and are switched on and off between
rounds, which alternate (as in `bench.redemption`), so that both see the same machine. With
them on, each server's delivery thread sends to a receiver on the same machine meanwhile: the
cost measured includes the deliveries' CPU, not only the two event rows a redemption writes.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from pathlib import Path

from bench.common import each_database
from bench.redemption import _load, _pct

ROUNDS = 6
SECONDS = 2.5


def _workers_cpu_seconds(master_pid: int) -> float:
    """User + system CPU seconds used so far by a gunicorn master's workers (all their threads:
    requests, the relay and the deliveries). Unlike requests per second, this does not move
    when other programs take the shared CPUs."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for task in Path(f"/proc/{master_pid}/task").glob("*/children"):
        for pid in task.read_text().split():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / tick


def run() -> dict:
    from tests.e2e.conftest import start_server, stop_server
    from tests.e2e.world import issue, stroller_and_maternity
    from tests.webhook_receiver import Receiver

    results = {}
    for label, url in each_database():
        tmp = Path(tempfile.mkdtemp())
        with Receiver() as receiver:
            proc, server = start_server(url, tmp, EXCHANGE_LOG_LEVEL="WARNING", WEB_CONCURRENCY="2",
                                        EXCHANGE_REDEMPTION_RATE_LIMIT="off", EXCHANGE_REDEMPTION_IP_RATE_LIMIT="off",
                                        EXCHANGE_WEBHOOK_ALLOW_PRIVATE="1")
            try:
                stroller, maternity, _ = stroller_and_maternity(server)
                status, _, body = server.request("POST", "/api/v1/offers", {
                    "title": "压测券", "discount": {"type": "amount", "amount": 100}, "currency": "CNY",
                    "valid_from": "2020-01-01T00:00:00+08:00", "valid_until": "2099-01-01T00:00:00+08:00",
                    "uses_per_coupon": 100, "allow_free_order": True}, maternity["key"])
                offer = json.loads(body)
                tokens = [c["payload"] for _ in range(5) for c in issue(server, stroller, offer, count=200)]
                till = json.loads(server.request("POST", f"/api/v1/stores/{maternity['store_id']}/terminal-keys",
                                                 {}, maternity["key"])[2])["key"]
                endpoints = [json.loads(server.request("POST", "/api/v1/webhook-endpoints", {
                    "url": f"{receiver.url}?n={n}", "event_types": ["coupon.redeemed"], "enabled": False},
                    maternity["key"])[2])["id"] for n in range(2)]
                port = int(server.url.rsplit(":", 1)[1])
                counter = iter(range(10**9))

                def redemption(counter=counter, tokens=tokens, till=till):
                    n = next(counter)
                    return "POST", "/api/v1/redemptions", json.dumps(
                        {"payload": tokens[n % len(tokens)], "order_amount": 10000}), {
                        "Authorization": f"Bearer {till}", "Content-Type": "application/json",
                        "Idempotency-Key": str(uuid.uuid4())}

                def switch(on: bool, endpoints=endpoints, server=server, maternity=maternity) -> None:
                    for endpoint in endpoints:
                        server.request("PATCH", f"/api/v1/webhook-endpoints/{endpoint}", {"enabled": on},
                                       maternity["key"])

                runs = {False: [], True: []}
                times = {False: 0.0, True: 0.0}
                cpu = {False: 0.0, True: 0.0}
                ratios = []
                for _ in range(ROUNDS):
                    rates = {}
                    for on in (False, True):
                        switch(on)
                        if on:  # the previous round's deliveries are done before this one's count starts
                            receiver.wait_for(2 * len(runs[True]), 30)
                        used = _workers_cpu_seconds(proc.pid)
                        rps, latencies, _ = _load(port, redemption, SECONDS)
                        if on:  # a round with endpoints is charged for its deliveries too
                            receiver.wait_for(2 * (len(runs[True]) + len(latencies)), 60)
                        cpu[on] += _workers_cpu_seconds(proc.pid) - used
                        runs[on] += latencies
                        times[on] += len(latencies) / rps
                        rates[on] = rps
                    ratios.append(rates[True] / rates[False])
                switch(False)
                cpu_ms = {on: 1000 * cpu[on] / len(runs[on]) for on in (False, True)}
                # Throughput: a burst of redemptions with both endpoints on, then until all arrived.
                switch(True)
                before, began = len(receiver.received), time.monotonic()
                _, burst, _ = _load(port, redemption, SECONDS)
                expected = before + 2 * len(burst)
                receiver.wait_for(expected, 120)
                took = time.monotonic() - began
                delivered = len(receiver.received) - before
                without, with_ = len(runs[False]) / times[False], len(runs[True]) / times[True]
                results[label] = {
                    "redemptions_rps_without": round(without), "redemptions_rps_with_two": round(with_),
                    "ratio": round(with_ / without, 3), "round_ratios": [round(x, 3) for x in ratios],
                    "cpu_ms_per_redemption_without": round(cpu_ms[False], 2),
                    "cpu_ms_per_redemption_with_two": round(cpu_ms[True], 2),
                    "cpu_ratio": round(cpu_ms[True] / cpu_ms[False], 3),
                    "redeem_p50_ms_without": _pct(runs[False], 0.5), "redeem_p50_ms_with_two": _pct(runs[True], 0.5),
                    "redeem_p99_ms_without": _pct(runs[False], 0.99), "redeem_p99_ms_with_two": _pct(runs[True], 0.99),
                    "burst_redemptions": len(burst), "deliveries": delivered,
                    "all_delivered": delivered >= 2 * len(burst),
                    "deliveries_per_s": round(delivered / took)}
                print(label, results[label], flush=True)
            finally:
                stop_server(proc)
    return {"rounds": ROUNDS, "seconds": SECONDS, "workers": 2,
            "goal": "with two endpoints a redemption costs ≤ 1.05× without", "results": results}
