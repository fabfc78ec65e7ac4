"""What every benchmark needs: fresh databases, an app on them, timing, the machine."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

os.environ.setdefault("EXCHANGE_ENV", "testing")

RESULTS = Path(__file__).resolve().parent / "results"
POSTGRES_URL = os.environ.get("EXCHANGE_BENCH_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def each_database():
    """Yield (label, url) for a fresh migrated SQLite file, then a fresh PostgreSQL database."""
    from tests.databases import fresh_database

    tmp = tempfile.mkdtemp()
    for label, base in (("SQLite", None), ("PostgreSQL", POSTGRES_URL)):
        with fresh_database(base, Path(tmp)) as url:
            yield label, url


def timed(fn, repeat: int) -> list[float]:
    """Wall-clock seconds of each of `repeat` calls."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def summary_ms(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 3),
        "p99_ms": round(ordered[max(int(len(ordered) * 0.99) - 1, 0)] * 1000, 3),
        "n": len(ordered),
    }


def machine() -> dict:
    cpu = ""
    with contextlib.suppress(OSError, StopIteration), open("/proc/cpuinfo") as f:
        cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "postgresql": _postgres_version()}


def _postgres_version() -> str:
    try:
        return subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"


def save(name: str, result: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    result = {"benchmark": name, "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "machine": machine(), **result}
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


def _status_kb(pid: int | str, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_peak_rss() -> float:
    """Forget this process's peak resident set so far (Linux: clear_refs 5); its current one, MB."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return round(_status_kb("self", "VmRSS") / 1024, 1)


def peak_rss_mb(pid: int | str = "self") -> float:
    """The peak resident set of a process since it started or since `reset_peak_rss`, MB."""
    return round(_status_kb(pid, "VmHWM") / 1024, 1)


def server_peak_rss_mb(master_pid: int) -> float:
    """The largest peak resident set among a gunicorn master's workers, MB (read before stopping it)."""
    children = []
    for task in Path(f"/proc/{master_pid}/task").glob("*/children"):
        children += task.read_text().split()
    return max((peak_rss_mb(pid) for pid in children), default=0.0)
