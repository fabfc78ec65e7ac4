from datetime import UTC, datetime, timedelta, timezone

import pytest

from exchange import clock


def test_now_is_timezone_aware_utc():
    assert clock.now().tzinfo == UTC


def test_sandbox_clock_starts_at_the_given_time_and_runs_on():
    start = clock.parse_instant("2026-10-31T23:59:00+08:00")
    clock.set_now(start)
    first = clock.now()
    assert timedelta(0) <= first - start < timedelta(seconds=1)
    assert clock.now() >= first
    assert first.astimezone(timezone(timedelta(hours=8))).day == 31


def test_advance_moves_the_clock():
    clock.set_now(datetime(2026, 11, 1, tzinfo=UTC))
    clock.advance(timedelta(days=30))
    assert clock.now().month == 12


@pytest.mark.parametrize("text", ["2026-10-31", "2026-10-31T12:00:00", "yesterday"])
def test_instants_without_an_offset_are_refused(text):
    with pytest.raises(ValueError):
        clock.parse_instant(text)


def test_app_start_reads_exchange_now():
    class App:
        config = {"NOW": "2026-10-31T15:59:00Z"}

    clock.init_app(App)
    assert abs(clock.now() - datetime(2026, 10, 31, 15, 59, tzinfo=UTC)) < timedelta(seconds=5)


def test_processes_started_apart_share_the_masters_anchor_so_their_clocks_agree():
    import time

    anchor = time.time() - 3.0  # the master read EXCHANGE_NOW three seconds before this worker started

    class Worker:
        config = {"NOW": "2026-10-31T15:59:00Z", "NOW_ANCHOR": repr(anchor)}

    clock.init_app(Worker)
    elapsed = timedelta(seconds=time.time() - anchor)
    expected = datetime(2026, 10, 31, 15, 59, tzinfo=UTC) + elapsed
    assert abs(clock.now() - expected) < timedelta(milliseconds=50)
