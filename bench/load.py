"""Load from wrk (Debian's package, a C load generator: the client is not what is measured)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua"
THREADS = 2
CONNECTIONS = 8


@dataclass
class Run:
    requests: int
    seconds: float
    non_2xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is missing: `scripts/system-deps.sh --bench` installs it (Debian's wrk)")
    return path


def wrk(url: str, script: str, seconds: float, **env: str) -> Run:
    """One wrk run of `seconds` against `url` with bench/lua/`script`."""
    out = subprocess.run(
        [wrk_path(), f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "30s",
         "-s", str(LUA / script), url],
        capture_output=True, text=True, check=True,
        env={**os.environ, "BENCH_LUA_DIR": str(LUA), "BENCH_RUN": uuid.uuid4().hex[:12], **env}).stdout
    line = next(x for x in reversed(out.splitlines()) if x.startswith("{"))
    m = json.loads(line)
    return Run(m["requests"], m["seconds"], m["non_2xx"], m["socket_errors"], m["p50_us"] / 1000, m["p99_us"] / 1000)


def write_lines(path: Path, values: list[str]) -> str:
    path.write_text("\n".join(values) + "\n")
    return str(path)
