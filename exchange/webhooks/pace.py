"""How soon a delivery worker's next pass comes.

Deliveries are background work: a redemption never waits for one, and a delivery made a few
seconds later is as good. So while the machine's CPUs are busy with other work — the request
workers, their database — a worker makes a pass at most once a second (at most 64 deliveries a
second), and the rest wait in the database until the load eases — but never for long: once the
oldest delivery due (or event not yet relayed) has waited `MAX_WAIT_SECONDS`, the full pace is
back, busy or not (a long saturation is not a burst, and merchants must still hear of it within
seconds). Otherwise a pass comes every quarter second; and the next comes at once after a full
one (more is waiting) while other work has used less than half the CPUs, or once the oldest
has waited that half minute: a backlog is worked off as fast as the CPU allows, not at a fixed
rate that a busy exchange's redemptions could outrun. Half, not three quarters: on SQLite a
worker writing flat out holds the one write lock so often that the request workers it stalls
look like spare CPU (0.70 was read under full load). And only a reading taken while the worker
was working counts for that: one that began while it was idle may hold the first moments of a
burst of load.

Busy is read over at least a quarter second, this process's own use taken out, from Linux's
`/proc/stat` for the CPUs it may run on, or in a container capped at a CPU quota from its
cgroup's usage against the quota (`Cpus`); where neither can be read the pace is always the
full one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

PASS_SECONDS = 0.25       # at most this often while there is work
BUSY_PASS_SECONDS = 1.0   # ... and this often while the CPUs are busy with other work
IDLE_SECONDS = 0.5        # a look when the last pass found nothing to do
BUSY = 0.75               # other work's share of the CPUs from which deliveries give way
MAX_WAIT_SECONDS = 30.0   # ... for at most this long
SPARE = 0.5               # other work's share below which a full pass is followed at once by the next
WINDOW_SECONDS = 0.25     # the shortest time over which the CPUs' business is read


class Cpus:
    """The CPUs this process may use, and how busy they are: `ticks()` is (busy, total) clock
    ticks, both growing with time, whose increase over a while says what share of them was busy.

    From Linux's /proc/stat, for the CPUs this process's affinity allows (a cpuset); but where its
    cgroup (v2), or one above it, caps it at a quota of CPU time (a container's `--cpus`, a pod's
    CPU limit), from the cgroup's own usage against that quota: /proc/stat there counts the host's
    CPUs, which other containers keep busy or leave idle, and would read a saturated container as
    a machine with CPU to spare. `count`: how many CPUs' worth that is."""

    def __init__(self, *, proc: str = "/proc", cgroups: str = "/sys/fs/cgroup", affinity: set[int] | None = None,
                 hz: int | None = None, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._proc, self._hz, self._monotonic = Path(proc), hz or os.sysconf("SC_CLK_TCK"), monotonic
        if affinity is None:
            affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
        self._cpus = {f"cpu{n}" for n in affinity}
        self._quota = _quota(self._proc, Path(cgroups))
        if self._quota and self._cpus and self._quota[0] >= len(self._cpus):
            self._quota = None  # the cpuset is the tighter bound
        self.count = self._quota[0] if self._quota else (len(self._cpus) or os.cpu_count() or 1)

    def ticks(self) -> tuple[float, float] | None:
        """None where neither can be read (not Linux)."""
        try:
            if self._quota:
                cpus, stat = self._quota
                usage = next(int(line.split()[1]) for line in stat.read_text().splitlines()
                             if line.startswith("usage_usec "))
                return usage * self._hz / 1e6, self._monotonic() * self._hz * cpus
            lines = (self._proc / "stat").read_text().splitlines()
        except (OSError, StopIteration, ValueError, IndexError):
            return None
        busy = total = 0
        for line in lines:
            fields = line.split()
            if not fields or not fields[0].startswith("cpu") or fields[0] == "cpu":
                continue
            if self._cpus and fields[0] not in self._cpus:
                continue
            user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in fields[1:9])
            total += user + nice + system + idle + iowait + irq + softirq + steal
            busy += user + nice + system + irq + softirq + steal
        return (busy, total) if total else None


def _quota(proc: Path, cgroups: Path) -> tuple[float, Path] | None:
    """The tightest CPU quota on this process's cgroup v2 and those above it: (CPUs' worth, the
    cpu.stat of the cgroup that sets it), or None (no quota, or no cgroup v2)."""
    try:
        path = next(line[3:] for line in (proc / "self" / "cgroup").read_text().splitlines()
                    if line.startswith("0::"))
    except (OSError, StopIteration):
        return None
    found = None
    here = cgroups / path.strip().lstrip("/")
    while True:
        try:
            quota, period = (here / "cpu.max").read_text().split()
            if quota != "max" and (found is None or int(quota) / int(period) < found[0]):
                found = (int(quota) / int(period), here / "cpu.stat")
        except (OSError, ValueError):
            pass
        if here == cgroups or cgroups not in here.parents:
            return found
        here = here.parent


class Pace:
    """The wait before the next pass, from what the last one did and how busy the CPUs were."""

    def __init__(self, ticks: Callable[[], tuple[float, float] | None] | None = None,
                 own_seconds: Callable[[], float] = time.process_time, hz: int | None = None,
                 cpus: float | None = None) -> None:
        if ticks is None:
            machine = Cpus()
            ticks, cpus = machine.ticks, machine.count
        self._ticks, self._own = ticks, own_seconds
        self._hz = hz or os.sysconf("SC_CLK_TCK")
        self._window = WINDOW_SECONDS * self._hz * (cpus or os.cpu_count() or 1)  # in ticks of all the CPUs
        self._last = (ticks(), own_seconds())
        self._share, self._read_working = 0.0, False  # the last reading, and whether it began while working
        self._working = False  # whether the reading under way began while working

    def wait(self, worked: bool, elapsed: float, waited: Callable[[], float] = lambda: 0.0, *,
             full: bool = False) -> float:
        """`worked`: the last pass did something; `full`: it took all a pass may (more is waiting).
        `waited`: how long the oldest delivery due has waited (asked only when the CPUs are not spare)."""
        share, while_working = self.others_share(worked)  # read every pass: of the time since the last reading
        if not worked:
            return IDLE_SECONDS
        all_out = (share < SPARE and while_working) or waited() >= MAX_WAIT_SECONDS
        if all_out:
            return 0.0 if full else max(0.0, PASS_SECONDS - elapsed)
        return max(0.0, (BUSY_PASS_SECONDS if share >= BUSY else PASS_SECONDS) - elapsed)

    def others_busy(self) -> bool:
        return self.others_share()[0] >= BUSY

    def others_share(self, working: bool = True) -> tuple[float, bool]:
        """The share of all CPUs that work other than this process's used over the last reading
        (taken now if a window's worth of time has gone by since the one before), and whether
        this worker was working as that reading began. `working`: whether it is working now."""
        now = (self._ticks(), self._own())
        was_ticks, was_own = self._last
        if now[0] is None or was_ticks is None:
            self._last = now
            return 0.0, True
        total = now[0][1] - was_ticks[1]
        if total >= self._window:
            others = now[0][0] - was_ticks[0] - (now[1] - was_own) * self._hz
            self._share, self._read_working = others / total, self._working
            self._last, self._working = now, working
        return self._share, self._read_working
