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


RENDERERS = {"suggestions": _suggestions}


def write() -> None:
    results = {p.stem: json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))}
    machine = next(iter(results.values()))["machine"] if results else {}
    lines = ["# Benchmarks", "",
             "Measured on this project's development machine, which is shared and noisy: read the "
             "ratios measured side by side in one run before the absolute times.", "",
             f"Machine: {machine.get('cpus')} CPUs ({machine.get('cpu')}), Python "
             f"{machine.get('python')}, {machine.get('postgresql')}; SQLite in WAL mode on local disk.",
             "", "Run everything with `make bench`; each benchmark also runs alone with "
             "`.venv/bin/python -m bench NAME`.", ""]
    for name, result in results.items():
        lines += RENDERERS[name](result) + [""]
    DOC.write_text("\n".join(lines))


if __name__ == "__main__":
    write()
