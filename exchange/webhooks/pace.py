"""How soon a delivery worker's next pass comes.

Deliveries are background work: a redemption never waits for one, and a delivery made a few
seconds later is as good. So while the machine's CPUs are busy with other work — the request
workers, their database — a worker makes a pass at most once a second instead of four times (at
most 64 deliveries a second instead of 256), and the rest wait in the database until the load
eases — but never for long: once the oldest delivery due (or event not yet relayed) has waited
`MAX_WAIT_SECONDS`, the full pace is back, busy or not (a long saturation is not a burst, and
merchants must still hear of it within seconds). On a machine with CPU to spare it goes at full
pace. Busy is read from Linux's
`/proc/stat` (all CPUs, this process's own use taken out); where that cannot be read the pace
is always the full one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

PASS_SECONDS = 0.25       # at most this often while there is work
BUSY_PASS_SECONDS = 1.0   # ... and this often while the CPUs are busy with other work
IDLE_SECONDS = 0.5        # a look when the last pass found nothing to do
BUSY = 0.75               # other work's share of all CPUs from which deliveries give way
MAX_WAIT_SECONDS = 30.0   # ... for at most this long


def cpu_ticks() -> tuple[int, int] | None:
    """(busy, total) clock ticks of all CPUs since boot, or None where /proc/stat is not Linux's."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in fields[1:9])
    total = user + nice + system + idle + iowait + irq + softirq + steal
    return total - idle - iowait, total


class Pace:
    """The wait before the next pass, from what the last one did and how busy the CPUs were."""

    def __init__(self, ticks: Callable[[], tuple[int, int] | None] = cpu_ticks,
                 own_seconds: Callable[[], float] = time.process_time, hz: int | None = None) -> None:
        self._ticks, self._own = ticks, own_seconds
        self._hz = hz or os.sysconf("SC_CLK_TCK")
        self._last = (ticks(), own_seconds())

    def wait(self, worked: bool, elapsed: float, waited: Callable[[], float] = lambda: 0.0) -> float:
        """`waited`: how long the oldest delivery due has waited (asked only when the CPUs are busy)."""
        busy = self.others_busy()  # read every pass: the share is of the time since the last one
        if not worked:
            return IDLE_SECONDS
        slow = busy and waited() < MAX_WAIT_SECONDS
        return max(0.0, (BUSY_PASS_SECONDS if slow else PASS_SECONDS) - elapsed)

    def others_busy(self) -> bool:
        """Whether work other than this process's used at least `BUSY` of all CPUs since the last look."""
        now = (self._ticks(), self._own())
        (was_ticks, was_own), self._last = self._last, now
        if now[0] is None or was_ticks is None:
            return False
        total = now[0][1] - was_ticks[1]
        others = now[0][0] - was_ticks[0] - (now[1] - was_own) * self._hz
        return total > 0 and others >= BUSY * total
