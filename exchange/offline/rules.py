"""The offline rules the exchange applies at sync, pure: how old an offline redemption or refund may be,
and the coupon ids a catalog lists, as ranges."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from ..errors import DomainError


def check_offline_at(offline_at: datetime, now: datetime, *, window: timedelta, skew: timedelta,
                     what: str = "redemption") -> None:
    """A till's time of an offline redemption (or refund: `what`): within `window` before `now`,
    and not in the future (beyond `skew`, what a till's clock may be fast by)."""
    if offline_at > now + skew:
        raise DomainError(f"The offline {what}'s time (offline_at) is in the future; check the till's clock.",
                          code="offline_at_in_future", status=422, offline_at=offline_at.isoformat())
    if offline_at < now - window:
        hours = int(window.total_seconds() // 3600)
        raise DomainError(f"This offline {what} is older than {hours} hours: the exchange no longer "
                          "accepts it.", code="offline_at_too_old", status=422, window_hours=hours)


def id_ranges(ids: Iterable[int]) -> list[list[int]]:
    """Sorted ids as inclusive [first, last] runs: 1,2,3,7 → [[1, 3], [7, 7]]."""
    runs: list[list[int]] = []
    for i in sorted(ids):
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        elif not runs or i > runs[-1][1]:
            runs.append([i, i])
    return runs
