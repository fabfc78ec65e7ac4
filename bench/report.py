"""Render bench/results/*.json as docs/benchmarks.md."""

from __future__ import annotations

import json
from pathlib import Path

from bench.common import RESULTS

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def _suggestions(r: dict) -> list[str]:
    lines = [f"### Partner suggestions among {r['merchants']:,} merchants",
             "",
             f"Goal: {r['goal']}, through the whole request path (key check, ranking query, loading "
             "and dumping the top 10). Baseline: `/healthz` through the same client in the same run.",
             "",
             "| database | median | p95 | p99 | `/healthz` median | ratio to `/healthz` | goal met |",
             "|---|---|---|---|---|---|---|"]
    for db, m in r["results"].items():
        s, h = m["suggestions"], m["healthz"]
        lines.append(f"| {db} | {s['median_ms']:.1f} ms | {s['p95_ms']:.1f} ms | {s['p99_ms']:.1f} ms "
                     f"| {h['median_ms']:.1f} ms | {m['ratio_to_healthz']}× "
                     f"| {'yes' if s['median_ms'] < 50 else 'no'} |")
    lines += ["", f"Reproduce: `.venv/bin/python -m bench suggestions` (measured {r['measured_at']})."]
    return lines


def _issuance(r: dict) -> list[str]:
    lines = [f"### Issuing a {r['coupons']:,}-coupon batch",
             "",
             "Goal: the batch runs at ≥ 50% of the rate at which bare PyJWT signs the same EdDSA tokens in the "
             "same process (signing, manual codes, inserts, progress and lease updates all included). Bare "
             f"signing and a batch take turns, {r.get('rounds', 1)} rounds; the rates are of the totals. CPU: "
             "per token, the batch's including its PostgreSQL backend's (where the COPY's rows are stored).",
             "",
             "| database | bare PyJWT signs/s | batch coupons/s | ratio | per round | bare CPU per token "
             "| batch CPU per coupon | CPU ratio | goal met |",
             "|---|---|---|---|---|---|---|---|---|"]
    for db, m in r["results"].items():
        rounds = ", ".join(f"{x:.2f}" for x in m.get("round_ratios", []))
        lines.append(f"| {db} | {m['bare_signs_per_s']:,} | {m['batch_coupons_per_s']:,} | {m['ratio']:.2f} "
                     f"| {rounds} | {m.get('bare_cpu_us_per_sign', '–')} µs "
                     f"| {m.get('batch_cpu_us_per_coupon', '–')} µs "
                     f"| {m.get('cpu_ratio', '–')} | {'yes' if m['ratio'] >= 0.5 else '**no**'} |")
    lines += ["", "On PostgreSQL each chunk's coupons stream into one COPY as they are signed, so the server "
              "stores a chunk's first coupons while the rest are signed.",
              "", f"Reproduce: `.venv/bin/python -m bench issuance` (measured {r['measured_at']})."]
    return lines


def _qr_images(r: dict) -> list[str]:
    m = r["results"]
    return [f"### QR images ({r['requests']} coupons)",
            "",
            "Goal: a first `GET /c/{token}/qr.png` (token check, lookup, render, response) costs ≤ 1.5× "
            "`qrcode.make(link)` + PNG encoding of the same link; a repeat is served from the worker's cache.",
            "",
            "| bare `qrcode` render | first request | ratio | repeated request | ratio | 304 revalidation | goal met |",
            "|---|---|---|---|---|---|---|",
            f"| {m['bare_ms']:.1f} ms | {m['first_request_ms']:.1f} ms | {m['ratio_first']}× "
            f"| {m['repeat_request_ms']:.1f} ms | {m['ratio_repeat']}× | {m['revalidate_304_ms']:.1f} ms "
            f"| {'yes' if m['ratio_first'] <= 1.5 else 'no'} |",
            "", f"Reproduce: `.venv/bin/python -m bench qr_images` (measured {r['measured_at']})."]


def _redemption(r: dict) -> list[str]:
    goals = {"SQLite": 0.33, "PostgreSQL": 0.25}
    lines = ["### Redemptions through gunicorn, in the production configuration",
             "",
             "Goal: redemptions/s ÷ `/healthz`/s of the same server in the same run ≥ 0.33 (SQLite), ≥ 0.25 "
             f"(PostgreSQL). `EXCHANGE_ENV=production`, gunicorn {r['workers']} workers (gthread) with the "
             "batch worker and the delivery process running, rate limits counting every request (per till key "
             "and per address; set high enough that none is refused) in each worker's memory or in Redis. "
             f"Load: {r['load']} on loopback, {r['tills']} till keys, a new Idempotency-Key per request; "
             f"`/healthz` and redemptions take turns, {r['rounds']} rounds of {r['seconds']} s each (the ratio "
             "is of the totals; each round's own ratio is shown too; p50 is the rounds' median p50, p99 the "
             "highest round's p99).",
             "",
             "| database | rate limits in | `/healthz`/s | redemptions/s | ratio | per round | redeem p50 | redeem p99 "
             "| refused | ledger checked | worker peak memory | goal met |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    met = True
    for db, by_limiter in r["results"].items():
        for limiter, m in by_limiter.items():
            rounds = ", ".join(f"{x:.2f}" for x in m["round_ratios"])
            ok = m["ratio"] >= goals[db]
            met = met and ok
            lines.append(f"| {db} | {limiter} | {m['healthz_rps']} | {m['redemptions_rps']} | {m['ratio']:.3f} "
                         f"| {rounds} | {m['redeem_p50_ms']:.1f} ms | {m['redeem_p99_ms']:.1f} ms | {m['refused']} "
                         f"| {'ok' if m['ledger_ok'] else 'FAILED'} | {m['worker_peak_rss_mb']} MB "
                         f"| {'yes' if ok else '**no**'} |")
    lines += ["", ("Met in this run. " if met else "**Not met** in this run. ")
              + "A redemption is one transaction of 9 SQL statements (Idempotency-Key lookup, one joined lookup "
              "of coupon, offer, partnership and terms, the guarded use, redemption, ledger transaction and "
              "entries, audit event, its two events, stored response; the guarded budget only for an offer that "
              "has one) after the API-key lookup; the statements are compiled once and run on the driver's "
              "cursor (exchange/db/statements.py), inside the one unit of work every service uses. The rate "
              "limiter adds, per request, a hit for each of its two limits and a look at the address's failed "
              "authentications, in Redis all three in one round trip (exchange/http/ratelimits.py `money_path`; "
              "until 2026-12-01 three, which made the Redis ratio on SQLite 0.28–0.30), and no X-RateLimit "
              "headers (two round trips more). Without Redis they count in each worker's memory, in the limits "
              "library's store with its lapsed windows swept inline (exchange/http/ratelimit_store.py; the "
              "library's own started a timer thread every 10 ms under load, which cost redemptions about 5%). On "
              "this 2-CPU machine wrk, both workers, the delivery process, Redis and PostgreSQL share the CPUs; "
              "on SQLite the writes are serialised (one writer at a time: docs/money.md). Both workers get their "
              "share of wrk's kept-alive connections (exchange/http/gunicorn_worker.py: a busy worker leaves "
              "newcomers to an idle one); until 2026-12-01 19:30 UTC one worker could take them all, which "
              "halved whichever side of the ratio it struck and made earlier runs' ratios swing from 0.14 to "
              "0.63 — the figures since are steadier and lower, `/healthz` gaining more than redemptions.",
              "", f"Reproduce: `make bench` or `.venv/bin/python -m bench redemption` (measured {r['measured_at']})."]
    return lines


def _settlement_goal(n: str, m: dict) -> str:
    if int(n) < 1_000_000:
        return "– (set at 1M)"
    return "yes" if m["ratio"] <= 3 else "**no**"


def _settlement(r: dict) -> list[str]:
    lines = [f"### Closing a month ({r['merchants']:,} merchants)",
             "",
             "Goal (for a month of 1,000,000 redemptions): closing it costs ≤ 3× a bare SQL `GROUP BY` over the "
             "same ledger rows (the month's entries "
             "joined to their transactions, summed per merchant, counterparty and account), measured in the same "
             "process right before the close; time grows linearly and peak memory does not grow with the number "
             "of redemptions (the close streams one GROUP BY whose size is the number of pairs). Each close runs "
             "in a fresh process; memory is the growth of its peak resident set during the close.",
             "",
             "| database | redemptions | pairs | bare `GROUP BY` | close | ratio | resident set added "
             "| Python heap peak | goal met |",
             "|---|---|---|---|---|---|---|---|---|"]
    for db, by_size in r["results"].items():
        for n, m in by_size.items():
            lines.append(f"| {db} | {int(n):,} | {m['pairs']:,} | {m['bare_group_by_s']:.3f} s | {m['close_s']:.3f} s "
                         f"| {m['ratio']:.2f}× | {m['peak_rss_growth_mb']:.1f} MB | {m['python_heap_peak_mb']:.1f} MB "
                         f"| {_settlement_goal(n, m)} |")
    lines += ["", "The close's own work beyond the `GROUP BY` is per pair (about 10,000 pairs at every size here: "
              "netting, a digest and a row each), so it is a constant that dominates small months and fades in "
              "large ones; the time grows linearly with the redemptions. The resident set added on SQLite includes "
              "SQLite's page cache, which is capped at 64 MiB per connection (`cache_size`); the Python heap "
              "(tracemalloc, measured in a second close of a copy of the same month) does not grow with the "
              "number of redemptions.",
              "", f"![Close time and memory against the month's size]({r['plot']})",
              "", f"Reproduce: `.venv/bin/python -m bench settlement` (measured {r['measured_at']}); "
              "`EXCHANGE_BENCH_SETTLEMENT_SIZES=10000,100000` for a shorter run."]
    return lines


def _webhooks_met(m: dict) -> bool:
    """The ratio, of redemptions only: a refused request (a coupon used up) is not one."""
    return m["ratio"] >= 0.95 and m["refused"] == 0


def _webhooks(r: dict) -> list[str]:
    lines = ["### Redemptions with webhook endpoints subscribed",
             "",
             "Goal: with two endpoints subscribed to `coupon.redeemed` the redemption benchmark costs at most 5% "
             "more than without any. The same server as above (rate limits counting in Redis; "
             "`EXCHANGE_ENV=development` only so that it may deliver to a receiver on loopback), the endpoints "
             f"switched on and off between rounds that take turns, {r['rounds']} rounds of {r['seconds']} s each "
             "(in the order off-on, on-off, …, so that what drifts or happens once falls on both sides alike; the "
             "ratio is of the totals, with a 95% bootstrap interval over the pairs of rounds — how precisely "
             "this run tells it — and the median of the rounds' own ratios). "
             "Every round begins and ends settled — every event numbered, no delivery waiting — so that a round's "
             "events are relayed and delivered in its own time, never in the next round's (whose endpoints may be "
             "switched the other way). "
             "The receiver is nginx answering 204 (a merchant's receiver runs on the merchant's machine: here it "
             "must take next to no CPU from the server measured); a delivery counts once the exchange recorded "
             "it succeeded. A pass's deliveries go out at once over kept-alive connections, from one thread, "
             "through libcurl's multi interface (pycurl). "
             "Worker CPU: the request workers' CPU time per redemption; all CPU: the whole machine's busy time "
             "(wrk's and the benchmark's own left out: the workers', the delivery process's, the database's, the "
             "receiver's) per redemption over the round and its settling, i.e. with the deliveries made after "
             "the load included — what they cost where the load does not stop; delivery CPU: the delivery "
             "process's CPU time per delivery (the relay's numbering included).",
             "",
             "| database | redemptions/s without / with two | ratio (95% interval; median of rounds) "
             "| worker CPU per redemption without / with | CPU ratio | all CPU per redemption without / with, "
             "ratio | p50 without / with | p99 without / with | delivery CPU per delivery "
             "| deliveries due / made per s under load | caught up after the load (median) | refused "
             "| all delivered | goal met |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for db, m in r["results"].items():
        low, high = m["ratio_95_interval"]
        lines.append(f"| {db} | {m['redemptions_rps_without']} / {m['redemptions_rps_with_two']} "
                     f"| {m['ratio']:.3f} ({low:.3f}–{high:.3f}; {m['median_round_ratio']:.3f}) "
                     f"| {m['worker_cpu_ms_per_redemption_without']} / "
                     f"{m['worker_cpu_ms_per_redemption_with_two']} ms | {m['worker_cpu_ratio']:.3f} "
                     f"| {m['machine_cpu_ms_per_redemption_without']} / {m['machine_cpu_ms_per_redemption_with_two']} "
                     f"ms, {m['machine_cpu_ratio']:.3f} "
                     f"| {m['redeem_p50_ms_without']} / {m['redeem_p50_ms_with_two']} ms "
                     f"| {m['redeem_p99_ms_without']} / {m['redeem_p99_ms_with_two']} ms "
                     f"| {m['delivery_cpu_ms_per_delivery']} ms "
                     f"| {m['deliveries_due_per_s']} / {m['delivered_per_s_while_loaded']} "
                     f"| {m['caught_up_after_s']} s ({m['delivered_per_s_after']}/s) "
                     f"| {m['refused']} | {'yes' if m['all_delivered'] else 'no'} "
                     f"| {'yes' if _webhooks_met(m) else '**no**'} |")
    met = all(_webhooks_met(m) for m in r["results"].values())
    lag = max(r["results"].values(), key=lambda m: m["caught_up_after_s"])
    noisy = max(max(m["round_ratios"]) - min(m["round_ratios"]) for m in r["results"].values())
    lines += ["", *[f"The rounds' own ratios on {db}: " + ", ".join(f"{x:.2f}" for x in m["round_ratios"]) + "."
                    for db, m in r["results"].items()],
              "", ("Met in this run. " if met else "**Not met** in this run. ")
              + f"The rounds' own ratios spread over {noisy:.2f}: this virtual machine's speed drifts from one "
              "second to the next (on 2026-12-02 a run with the endpoints never switched on, the same server on "
              "both sides, read rounds' ratios from 0.74 to 1.43 and 1.010 overall), so a difference of a few "
              "percent is read from many rounds, never one. The interval says how precisely this run's rounds "
              "tell its figure, not where another run may land: the machine itself changes between runs. "
              "A redemption writes its two event rows (the owner's and the distributor's view) "
              "whether or not anyone subscribed. Everything else runs in the server's delivery process "
              "(exchange/webhooks/beside.py), niced below the request workers and sharing no interpreter lock "
              "with them: a pass is one transaction that numbers new events (one statement), queues their "
              "deliveries (those it attempts next inserted already leased to itself) and claims what else is due, "
              "up to 64; one send round through libcurl from one thread; one transaction recording the answers. "
              "While other work keeps the CPUs busy a pass comes once a second (exchange/webhooks/pace.py): under "
              "load most deliveries wait in the database; once it eases, full passes follow one another at once "
              f"and the backlog goes out (here within {lag['caught_up_after_s']} s of a 3-s burst at worst; the "
              "deliveries columns), none lost. The deliveries are not free, only deferred: counted in all (the "
              "all-CPU column), two deliveries cost the machine "
              + " and ".join(f"{100 * (m['machine_cpu_ratio'] - 1):.0f}% ({db})"
                             for db, m in r["results"].items())
              + " of a redemption's CPU; under a load that lets up within half a minute they are paid once it "
              "does, and under one that does not, the redemptions pay that much. Until 2026-12-02 the pace was "
              "fixed at 4 passes a second at most "
              "(256 deliveries a second: a 3-s burst took 13 s to deliver, and a busy exchange's backlog could "
              "only grow). Tried on 2026-12-01 on a 2-CPU Intel Xeon, before the sending moved to "
              "libcurl and the pace to the CPUs' business: with passes back to back under load, redemptions were "
              "21% (SQLite) / 17% (PostgreSQL) slower; in Linux's idle scheduling class, 8% / 16% slower "
              "(PostgreSQL's backends doing the deliveries' queries keep their normal priority, and a starved "
              "delivery process holding SQLite's write lock stalled a round of redemptions). "
              "Where the CPUs are not spare for long, the layout that keeps both redemptions and deliveries at "
              "their own pace is the documented one: `EXCHANGE_WEBHOOK_WORKER=0` on the till servers and "
              "`flask --app wsgi exchange deliver` on a machine of its own.",
              "", f"The sending alone ({r['passes']} passes of {r['per_pass']} POSTs of a delivery's size to the "
              "same nginx, outside any server; CPU time of the sending process per POST):",
              "", "| client | CPU per POST | POSTs/s |", "|---|---|---|",
              *[f"| {name} | {m['cpu_us_per_post']} µs | {m['posts_per_s']} |" for name, m in (
                  ("libcurl's multi interface, one thread (what the exchange sends with)",
                   r["senders"]["libcurl_multi"]),
                  ("urllib3, eight threads (what it sent with until 2026-12-02)", r["senders"]["urllib3_8_threads"]))],
              "", f"Reproduce: `.venv/bin/python -m bench webhooks` (measured {r['measured_at']})."]
    return lines


def _prints(r: dict) -> list[str]:
    lines = ["### Print runs: a batch's printable sheets",
             "",
             "Goal: a 100,000-coupon batch's PDFs in ≤ 3 minutes on this 2-CPU machine, each drawing process's "
             "peak resident set ≤ 300 MB and not growing with the batch. The batch is issued first (not timed); "
             "the time runs from asking for its sheets (the parts are planned) until the last part is stored "
             f"in {r['database']}. {r['drawing_processes']} processes draw, as a server's two gunicorn workers' "
             "batch workers do, each claiming parts of 1,200 coupons (100 A4 pages) under a lease; peak memory is "
             "each process's own VmHWM, its imports included. Then a process of its own downloads the whole run "
             "as one ZIP through the app and checks it: every part a PDF, every page there, a page of the first "
             "and of the last part scanned with zbar, each link's token verified and matched to its coupon.",
             "",
             "| coupons | parts | time | coupons/s | CPU per drawing process | drawing peak memory | ZIP "
             "| ZIP download (its process's peak) | QR scanned and verified | load average before → after | goal met |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for n, m in r["results"].items():
        cpu = " + ".join(f"{d['cpu_s']:.0f} s" for d in m["drawing_processes"])
        peaks = " / ".join(f"{d['peak_rss_mb']:.0f}" for d in m["drawing_processes"])
        goal = "–" if int(n) < 100_000 else ("yes" if m["seconds"] <= 180 and m["drawing_peak_rss_mb"] <= 300
                                            else "**no**")
        lines.append(f"| {int(n):,} | {m['parts']} | {m['seconds']:.0f} s | {m['coupons_per_s']:,} | {cpu} "
                     f"| {peaks} MB | {m['zip_mb']:.0f} MB, {m['zip_pages']:,} pages | {m['zip_seconds']:.1f} s "
                     f"({m['zip_process_peak_rss_mb']:.0f} MB) | {m['scanned_and_verified']} "
                     f"| {m['load_average_before'][0]:.1f} → {m['load_average_after'][0]:.1f} | {goal} |")
    lines += ["", "Each QR is drawn as vector rectangles (a row's dark runs, one fill per symbol) from the modules of "
              "zxing-cpp's encoder at one version (10) and mask, each part's CJK font subset embedded once; drawing "
              "costs 1–1.5 ms of CPU a coupon (more on a loaded machine), of which the symbol's modules are 0.2 ms "
              "and compressing the pages about a third. The load average is the machine's (other sessions share "
              "its 2 CPUs): with a load above 2 the drawing processes get less than a CPU each, and the time "
              "stretches accordingly; the CPU seconds are what the run itself cost.",
              ""]
    largest = r["results"][max(r["results"], key=int)]
    cpu = max(d["cpu_s"] for d in largest["drawing_processes"])
    share = cpu / largest["seconds"]
    met = largest["seconds"] <= 180 and largest["drawing_peak_rss_mb"] <= 300
    lines += [("Met in this run." if met else
               f"Not met in this run on time: at a load average of {largest['load_average_before'][0]:.0f} each "
               f"drawing process had about {share:.0%} of a CPU (its CPU seconds ÷ the run's time), so "
               f"{int(max(r['results'], key=int)):,} coupons took {largest['seconds']:.0f} s; what the run itself "
               f"costs, {cpu:.0f} s of CPU per drawing process, is its time when each has a CPU to itself.")
              + " Peak memory per drawing process: " + ", ".join(
                  f"{m['drawing_peak_rss_mb']:.0f} MB at {int(n):,} coupons" for n, m in r["results"].items())
              + " (one part at a time; ~120 MB of it is the process's own code and libraries).",
              "", f"Reproduce: `.venv/bin/python -m bench prints` (measured {r['measured_at']}); `--quick` for 1,000 "
              "and 5,000 coupons, `--sizes=10000,100000` for any sizes."]
    return lines


def _growth(r: dict) -> list[str]:
    small, large = r["sizes"]["small"], r["sizes"]["large"]
    lines = [f"### Cost as data grows: {small['coupons']:,} and {large['coupons']:,} coupons",
             "",
             "Goal: verify, redeem and the customer page cost at most 20% more (per-request p50, and requests/s) "
             "with 10 million coupons and 10 million redemptions in the database than with 10 thousand, and no "
             "statement they send scans a big table. PostgreSQL; both databases served at once by gunicorn "
             f"({r['workers']} workers, rate limits off), {r['clients']} keep-alive client threads; the loads take "
             f"turns, {r['rounds']} rounds of {r['requests_per_round']} requests per path and size, each request "
             "naming a different coupon drawn at random over the whole table (spare ones for verify, then redeem).",
             "",
             "| database | coupons | redemptions | ledger entries | merchants / partnerships / offers | size "
             "| built in |",
             "|---|---|---|---|---|---|---|"]
    for s in (small, large):
        entries = s["tables"].get("ledger_entries", {}).get("rows", 0)
        lines.append(f"| `{s['database']}` | {s['coupons']:,} | {s['redemptions']:,} | {entries:,} "
                     f"| {s['merchants']:,} / {s['partnerships']:,} / {s['offers']:,} | {s['database_gb']} GB "
                     f"| {s['build_seconds']:.0f} s |")
    lines += ["", "| path | small p50 / p99 | large p50 / p99 | small req/s | large req/s "
              "| p50 large ÷ small | p99 large ÷ small | req/s large ÷ small | worker CPU per request small / large "
              "(ratio) | buffers small / large (ratio) | goal met |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    names = {"verify": "verify (`POST /api/v1/redemptions/verify`)", "redeem": "redeem (`POST /api/v1/redemptions`)",
             "page": "customer page (`GET /c/{token}`)"}
    for path, ratio in r["ratios"].items():
        a, b = r["results"]["small"][path], r["results"]["large"][path]
        met = ratio["p50"] <= 1.2 and ratio["rps"] >= 1 / 1.2
        lines.append(f"| {names[path]} | {a['p50_ms']:.1f} / {a['p99_ms']:.1f} ms | {b['p50_ms']:.1f} / "
                     f"{b['p99_ms']:.1f} ms | {a['rps']} | {b['rps']} | {ratio['p50']:.2f} | {ratio['p99']:.2f} "
                     f"| {ratio['rps']:.2f} | {a['worker_cpu_ms']} / {b['worker_cpu_ms']} ms ({ratio['cpu']:.2f}) "
                     f"| {r['buffers']['small'][path]} / {r['buffers']['large'][path]} ({ratio['buffers']:.2f}) "
                     f"| {'yes' if met else '**no**'} |")
    lines += ["", "The ratios are the median of the rounds' own ratios (in each round the two sizes ran back to "
              "back; a burst of other work on the machine lands in one round): "
              + "; ".join(f"{path} p50 " + " ".join(f"{x:.2f}" for x in ratio["rounds"]["p50"])
                          + ", req/s " + " ".join(f"{x:.2f}" for x in ratio["rounds"]["rps"])
                          for path, ratio in r["ratios"].items() if "rounds" in ratio) + ".",
              "", "Goal met means p50 large ÷ small ≤ 1.2 and req/s large ÷ small ≥ 0.83. Latency and throughput "
              "move by tens of percent between rounds on this shared machine, so two figures free of that noise "
              "stand beside them: the CPU time gunicorn's workers spent per request (all threads, read from "
              "/proc before and after each load), and the PostgreSQL buffers (shared hit + read) one request's "
              "statements touch, summed over its statements, at each size.",
              "", f"Every statement of one request of each path, run again under EXPLAIN (ANALYZE, BUFFERS) on "
              f"`{large['database']}` (shared buffers hit + read, execution time):", "",
              "| path | statement | reached through | buffers | time |", "|---|---|---|---|---|"]
    for path, statements in r["plans"].items():
        for s in statements:
            if s["plan"] is None:
                continue
            scans = ", ".join(s["scans"]) or "–"
            took = f"{s['execution_ms']:.2f} ms" if s["execution_ms"] is not None else "(planned only)"
            lines.append(f"| {path} | `{s['statement'][:70]}…` | {scans} | {s['shared_hit'] + s['shared_read']} "
                         f"| {took} |")
    scanned = [st for sts in r["seq_scans"].values() for st in sts]
    lines += ["", ("No plan scans a big table (the sequential scans above are of tables of a few hundred rows, "
                   "which grow with the merchants, not with the traffic)." if not scanned
                   else f"**Sequential scans**: {scanned}")]
    size = "" if large["coupons"] == 10_000_000 else f"EXCHANGE_BENCH_GROWTH_SIZE={large['coupons']} "
    if size:
        lines += ["", f"**Measured at {large['coupons']:,} coupons and redemptions, not the goal's 10 million**: "
                  "building 10 million here did not fit the time available (this build signed and copied "
                  f"{large['coupons'] / large['build_steps']['coupons (signed, COPY)']:,.0f} coupons a second and "
                  f"took {large['build_seconds'] / 60:.0f} minutes in all on this shared machine, so 10 million "
                  f"would take some {large['build_seconds'] * 10_000_000 / large['coupons'] / 60:.0f} minutes). "
                  "The goal's size is the default: "
                  "`.venv/bin/python -m bench growth` builds `exchange_bench_10m` once and reuses it."]
    lines += ["", f"Reproduce: `{size}.venv/bin/python -m bench growth` (measured {r['measured_at']}); it builds "
              f"`{large['database']}` the first time and reuses it after (`--rebuild` builds it anew; "
              "`EXCHANGE_BENCH_GROWTH_SIZE` sets the large size)."]
    return lines


RENDERERS = {"prints": _prints, "webhooks": _webhooks, "settlement": _settlement, "redemption": _redemption,
             "suggestions": _suggestions, "issuance": _issuance, "qr_images": _qr_images, "growth": _growth}


def _machine(m: dict) -> str:
    return (f"{m.get('cpus')} CPUs ({m.get('cpu')}), Python {m.get('python')}, {m.get('postgresql')}; "
            "SQLite in WAL mode on local disk")


def write() -> None:
    results = {p.stem: json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))}
    lines = ["# Benchmarks", "",
             "Measured on this project's development machine, which is shared and noisy: read the "
             "ratios measured side by side in one run before the absolute times. The machine is not always "
             "the same one from one session to the next, so each benchmark names the one it ran on: compare "
             "a benchmark's figures with each other, not with another benchmark's absolute times.",
             "", "Run everything with `make bench`; each benchmark also runs alone with "
             "`.venv/bin/python -m bench NAME`.", ""]
    for name, result in results.items():
        lines += RENDERERS[name](result)
        lines += ["", "Machine: " + _machine(result.get("machine", {})) + "."]
        if "process_peak_rss_mb" in result:
            lines += ["", f"Peak resident memory of the benchmark's own process: {result['process_peak_rss_mb']} MB."]
        lines += [""]
    DOC.write_text("\n".join(lines))


if __name__ == "__main__":
    write()
