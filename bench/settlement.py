"""Closing a month ÷ a bare SQL GROUP BY over the same ledger rows, at 10k, 100k and 1M
redemptions among 1,000 merchants, on SQLite and PostgreSQL, with the close's peak memory.

Goal (issue: monthly settlement): close time ≤ 3× the bare GROUP BY measured in the same run,
growing linearly, and peak memory independent of the number of redemptions. Each close runs in
a process of its own so that its peak resident memory is its own.

The ledger rows are written straight into the tables with SQL (a redemption's two entries: the
distributor's commission receivable and the owner's payable), spread over October among ~10,000
partner pairs; the close itself goes through `exchange.settlement.closing.close`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from bench.common import POSTGRES_URL, peak_rss_mb, reset_peak_rss

SIZES = [int(s) for s in os.environ.get("EXCHANGE_BENCH_SETTLEMENT_SIZES", "10000,100000,1000000").split(",")]
MERCHANTS = 1000
OCTOBER = "2026-09-30 16:00:00"  # 1 October 00:00 in Beijing, as UTC
PLOT = Path(__file__).resolve().parent.parent / "docs" / "settlement-scaling.png"

BARE = """SELECT e.merchant_id, e.counterparty_id, e.account, SUM(e.amount)
          FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
          WHERE t.posted_at >= :start AND t.posted_at < :end GROUP BY e.merchant_id, e.counterparty_id, e.account"""


def _fill(url: str, n: int) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    sqlite = url.startswith("sqlite")
    series = ("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s"
              if sqlite else "SELECT generate_series(1::bigint, {n}) AS i")
    when = ("datetime('{t}', '+' || (i % 2678000) || ' seconds') || '.000000'" if sqlite
            else "TIMESTAMPTZ '{t}+00' + (i % 2678000) * INTERVAL '1 second'")
    # Distributor d and owner o: each merchant has ten partners, (d + 1 .. d + 10) mod 1000.
    d = f"((i * 7919) % {MERCHANTS}) + 1"
    o = f"((((i * 7919) % {MERCHANTS}) + 1 + ((i / {MERCHANTS}) % 10)) % {MERCHANTS}) + 1"
    amount = "(100 + (i * 37) % 5000)"
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO merchants (id, name, price_tier, scale, city, status, created_at, updated_at) "
            + series.format(n=MERCHANTS).replace(
                "SELECT i FROM s",
                "SELECT i, '商户 ' || i, 3, 'small', '杭州', "
                "'active', '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000' FROM s")
            if sqlite else
            "INSERT INTO merchants (id, name, price_tier, scale, city, status, created_at, updated_at) "
            "SELECT i, '商户 ' || i, 3, 'small', '杭州', 'active', now(), now() "
            f"FROM generate_series(1, {MERCHANTS}) i"))
        conn.execute(text(
            "INSERT INTO ledger_transactions (id, kind, currency, posted_at, description) "
            f"SELECT i, 'redemption', 'CNY', {when.format(t=OCTOBER)}, 'commission' FROM ({series.format(n=n)}) s"))
        for merchant, counterparty, account, sign, offset in ((d, o, "commission_receivable", "", 0),
                                                              (o, d, "commission_payable", "-", n)):
            conn.execute(text(
                "INSERT INTO ledger_entries "
                "(id, transaction_id, merchant_id, counterparty_id, account, amount, currency) "
                f"SELECT i + {offset}, i, {merchant}, {counterparty}, '{account}', {sign}{amount}, 'CNY' "
                f"FROM ({series.format(n=n)}) s"))
        if not sqlite:
            for table in ("merchants", "ledger_transactions", "ledger_entries"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    engine.dispose()


def _python_heap(url: str) -> dict:
    """In a process of its own, on a copy of the month: the close's peak Python heap (tracemalloc
    slows Python down, so this close is not the one timed)."""
    import tracemalloc

    from exchange import clock, create_app
    from exchange.settlement.closing import close

    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        clock.set_now(clock.parse_instant("2026-11-02T09:00:00+08:00"))
        tracemalloc.start()
        close("2026-10", actor="operator", min_transfer=0)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return {"python_heap_peak_mb": round(peak / 2**20, 1)}


@contextmanager
def _copy(url: str):
    """A copy of the database (the same month, still open)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if url.startswith("sqlite"):
        source = make_url(url).database
        target = source + ".copy"
        with sqlite3.connect(source) as conn:
            conn.execute("VACUUM INTO ?", (target,))
        yield f"sqlite:///{target}"
        os.unlink(target)
        return
    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}_copy" TEMPLATE "{name}"'))
    try:
        yield make_url(url).set(database=f"{name}_copy").render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}_copy" WITH (FORCE)'))
        admin.dispose()


def _measure(url: str) -> dict:
    """In a process of its own: the bare GROUP BY (best of 3), then the close, its peak memory."""
    import time

    from sqlalchemy import text

    from exchange import clock, create_app
    from exchange.extensions import db
    from exchange.periods import Period
    from exchange.settlement.closing import close
    from exchange.settlement.period_view import obligations_of, period_state

    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        clock.set_now(clock.parse_instant("2026-11-02T09:00:00+08:00"))
        obligations_of(period_state("2026-09"), None)  # a warm server: queries compiled, mappers set up
        db.session.rollback()
        october = Period(2026, 10)
        params = {"start": october.starts_at("Asia/Shanghai"), "end": october.ends_at("Asia/Shanghai")}
        if url.startswith("sqlite"):
            params = {k: v.strftime("%Y-%m-%d %H:%M:%S.%f") for k, v in params.items()}
        bare = []
        for _ in range(3):
            start = time.perf_counter()
            rows = db.session.execute(text(BARE), params).all()
            bare.append(time.perf_counter() - start)
        db.session.rollback()
        expected = sum(r[3] for r in rows if r[2] == "commission_receivable")
        rss_before = reset_peak_rss()
        start = time.perf_counter()
        settlement, created = close("2026-10", actor="operator", min_transfer=0)
        seconds = time.perf_counter() - start
        rss_after = peak_rss_mb()
        owed = sum(o.commission_a_to_b + o.commission_b_to_a for o in settlement.obligations)
        assert created and owed == expected, (owed, expected)
        return {"bare_group_by_s": round(min(bare), 4), "close_s": round(seconds, 4),
                "ratio": round(seconds / min(bare), 2), "pairs": len(settlement.obligations),
                "peak_rss_growth_mb": round(rss_after - rss_before, 1), "peak_rss_mb": rss_after}


def run() -> dict:
    from tests.databases import fresh_database

    results: dict[str, dict] = {}
    for label, base in (("SQLite", None), ("PostgreSQL", POSTGRES_URL)):
        results[label] = {}
        for n in SIZES:
            with fresh_database(base, Path(tempfile.mkdtemp())) as url:
                _fill(url, n)
                with _copy(url) as copy:
                    heap = _in_process(copy, "--heap")
                results[label][str(n)] = {**_in_process(url), **heap}
                print(label, n, results[label][str(n)], flush=True)
    _plot(results)
    return {"sizes": SIZES, "merchants": MERCHANTS, "results": results, "plot": PLOT.name}


def _in_process(url: str, *flags: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.settlement", url, *flags], capture_output=True,
                         text=True, check=True, env={**os.environ, "EXCHANGE_LOG_LEVEL": "WARNING"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def _plot(results: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (time_ax, memory_ax) = plt.subplots(1, 2, figsize=(10, 4))
    for label, by_size in results.items():
        sizes = [int(n) for n in by_size]
        time_ax.plot(sizes, [m["close_s"] for m in by_size.values()], marker="o", label=f"close, {label}")
        time_ax.plot(sizes, [m["bare_group_by_s"] for m in by_size.values()], marker="x", linestyle="--",
                     label=f"bare GROUP BY, {label}")
        memory_ax.plot(sizes, [m["peak_rss_growth_mb"] for m in by_size.values()], marker="o",
                       label=f"resident set, {label}")
        memory_ax.plot(sizes, [m["python_heap_peak_mb"] for m in by_size.values()], marker="x", linestyle="--",
                       label=f"Python heap, {label}")
    for ax, title, unit in ((time_ax, "Close time", "seconds"), (memory_ax, "Peak memory added by the close", "MB")):
        ax.set_xscale("log")
        ax.set_xlabel("redemptions in the month")
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    time_ax.set_yscale("log")
    memory_ax.set_ylim(bottom=0)
    fig.tight_layout()
    fig.savefig(PLOT, dpi=110)


if __name__ == "__main__":
    print(json.dumps(_python_heap(sys.argv[1]) if "--heap" in sys.argv else _measure(sys.argv[1])))
