"""Settlement periods: calendar months in the settlement timezone (pure).

An event at 23:59 on 31 October Beijing time (15:59 UTC) belongs to October, whatever the
server's own timezone. Periods are written `YYYY-MM`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

_PERIOD_RE = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")


class BadPeriod(ValueError):
    pass


@dataclass(frozen=True, order=True)
class Period:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _PERIOD_RE.match(text or "")
        if not match:
            raise BadPeriod(f"{text!r} is not a month written YYYY-MM (e.g. 2026-10).")
        if not 1970 <= int(match.group(1)) <= 9998:
            raise BadPeriod(f"{text!r} is outside the months the exchange settles (1970-01 to 9998-12).")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, instant: datetime, tz: str | ZoneInfo) -> Period:
        local = instant.astimezone(_zone(tz))
        return cls(local.year, local.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Period:
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def starts_at(self, tz: str | ZoneInfo) -> datetime:
        """The first instant of the month, in UTC."""
        return datetime(self.year, self.month, 1, tzinfo=_zone(tz)).astimezone(UTC)

    def ends_at(self, tz: str | ZoneInfo) -> datetime:
        """The first instant after the month, in UTC (periods are half-open)."""
        return self.next().starts_at(tz)


def _zone(tz: str | ZoneInfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


_settlement_zone = "Asia/Shanghai"


def zone() -> str:
    """The settlement timezone (`SETTLEMENT_TZ`): months are cut in it, times are said in it."""
    return _settlement_zone


def init_app(app) -> None:
    global _settlement_zone
    _settlement_zone = app.config["SETTLEMENT_TZ"]
