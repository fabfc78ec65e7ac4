"""The service's only clock.

Outside production `EXCHANGE_NOW` moves the start time (a sandbox clock like Stripe's test
clocks): the clock then runs on from there, so a month can be lived through and closed in a demo
or a test. Every feature reads time through `now()`; nothing else calls `datetime.now()`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["UTC", "UTC_MIN"]
# An instant before anything: "check a signature but not its expiry".
UTC_MIN = datetime(1970, 1, 2, tzinfo=UTC)

_offset = timedelta(0)


def _real_now() -> datetime:
    return datetime.now(UTC)


def now() -> datetime:
    """Current time, timezone-aware, in UTC."""
    return _real_now() + _offset


def wall_now() -> datetime:
    """The real time, never the sandbox clock's: for what other machines check against their own
    clocks (a webhook's signed `webhook-timestamp`, which receivers accept only within minutes
    of theirs). Everything the exchange itself records reads `now()`."""
    return _real_now()


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 instant; a bare date or a time without offset is refused."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return value.astimezone(UTC)


def set_now(instant: datetime | None, *, since: datetime | None = None) -> None:
    """Make `now()` read `instant` at the real moment `since` (default: this moment) and run on
    from there; None: real time."""
    global _offset
    _offset = timedelta(0) if instant is None else instant - (since or _real_now())


def advance(delta: timedelta) -> None:
    global _offset
    _offset += delta


def init_app(app) -> None:
    """Start the sandbox clock. Several processes of one server (gunicorn's workers) share the
    anchor the master set (`EXCHANGE_NOW_ANCHOR`, the real time it read `EXCHANGE_NOW`), so their
    clocks agree to the microsecond instead of differing by their start-up times."""
    start, anchor = app.config.get("NOW"), app.config.get("NOW_ANCHOR")
    since = datetime.fromtimestamp(float(anchor), UTC) if start and anchor else None
    set_now(parse_instant(start) if start else None, since=since)
