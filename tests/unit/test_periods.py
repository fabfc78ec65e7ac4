"""Periods are calendar months in the settlement timezone, whatever the server's own zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.periods import BadPeriod, Period

UTC = UTC
ZONES = ["Asia/Shanghai", "UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe",
         "Asia/Kathmandu", "Pacific/Chatham"]


def test_2359_on_31_october_in_beijing_is_october_though_it_is_1559_utc():
    instant = datetime(2026, 10, 31, 15, 59, tzinfo=UTC)
    assert Period.containing(instant, "Asia/Shanghai") == Period(2026, 10)
    assert Period.containing(instant + timedelta(minutes=1), "Asia/Shanghai") == Period(2026, 11)


def test_october_in_beijing_runs_from_30_september_16_00_utc():
    october = Period.parse("2026-10")
    assert october.starts_at("Asia/Shanghai") == datetime(2026, 9, 30, 16, tzinfo=UTC)
    assert october.ends_at("Asia/Shanghai") == datetime(2026, 10, 31, 16, tzinfo=UTC)


def test_a_month_with_a_dst_change_is_one_hour_longer_or_shorter():
    tz = "America/New_York"
    november, march = Period(2026, 11), Period(2026, 3)
    assert november.ends_at(tz) - november.starts_at(tz) == timedelta(days=30, hours=1)
    assert march.ends_at(tz) - march.starts_at(tz) == timedelta(days=31, hours=-1)


@pytest.mark.parametrize("text", ["2026-13", "26-10", "2026-1", "2026-00", "2026/10", "", "２０２６-10",
                                  "2026-10-01", " 2026-10", "0000-01"])
def test_malformed_periods_are_refused(text):
    with pytest.raises(BadPeriod):
        Period.parse(text)


def test_next_and_previous_cross_the_year():
    assert Period(2026, 12).next() == Period(2027, 1)
    assert Period(2027, 1).previous() == Period(2026, 12)
    assert str(Period.parse("2026-03")) == "2026-03"


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1),
                    timezones=st.just(UTC)), st.sampled_from(ZONES))
def test_every_instant_lies_in_exactly_the_period_that_contains_it(instant, zone):
    period = Period.containing(instant, zone)
    assert period.starts_at(zone) <= instant < period.ends_at(zone)
    assert period.ends_at(zone) == period.next().starts_at(zone)
    local = instant.astimezone(ZoneInfo(zone))
    assert (local.year, local.month) == (period.year, period.month)
