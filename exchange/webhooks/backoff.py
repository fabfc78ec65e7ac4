"""When a failed delivery is tried again (pure).

Exponential backoff with jitter, as the Standard Webhooks specification recommends: 5 s, then
four times longer each attempt (20 s, 80 s, 5 min, 21 min, 85 min, 5.7 h), at most 10 h apart,
each ±20 % at random so that deliveries failing together (a receiver's outage) do not all
come back at once. Tried for 3 days, then given up (the feed still has the event, and a
redelivery by hand starts another 3 days).
"""

from __future__ import annotations

from datetime import datetime, timedelta

FIRST = timedelta(seconds=5)
FACTOR = 4
LONGEST = timedelta(hours=10)
JITTER = 0.2
RETRY_WINDOW = timedelta(days=3)
# An endpoint that has not answered one delivery well for this long is disabled (and its
# merchant told): retrying everything for ever against a dead URL helps nobody.
DISABLE_AFTER = timedelta(days=5)


def delay(attempt: int, rand: float) -> timedelta:
    """The wait after failed attempt number `attempt` (1 = the first); `rand` in [0, 1)."""
    base = min(FIRST * FACTOR ** min(attempt - 1, 20), LONGEST)
    return base * (1 - JITTER + 2 * JITTER * rand)


def next_attempt(attempt: int, window_from: datetime, now: datetime, rand: float) -> datetime | None:
    """When to try again after failed attempt `attempt`, or None: give up (past the window)."""
    at = now + delay(attempt, rand)
    return at if at <= window_from + RETRY_WINDOW else None
