"""The delivery worker's pace (exchange/webhooks/pace.py): a pass every quarter second while
there is a little work and the next at once after a full one, every second while other work
keeps the CPUs busy, a look twice a second when there is none."""

from __future__ import annotations

import sys

import pytest

from exchange.webhooks import pace
from exchange.webhooks.pace import Pace


class Machine:
    """CPU ticks as /proc/stat counts them (100 a second per CPU), and this process's own seconds."""

    def __init__(self) -> None:
        self.busy, self.total, self.own = 0, 0, 0.0

    def run(self, seconds: float, cpus: int, others: float, own: float = 0.0) -> None:
        """`seconds` pass on `cpus` CPUs; others keep `others` of them busy, this process `own` CPUs."""
        self.total += round(100 * seconds * cpus)
        self.busy += round(100 * seconds * (others + own))
        self.own += seconds * own


def paced(machine: Machine, cpus: int = 2) -> Pace:
    return Pace(ticks=lambda: (machine.busy, machine.total), own_seconds=lambda: machine.own, hz=100, cpus=cpus)


def test_with_cpu_to_spare_a_pass_comes_every_quarter_second():
    machine = Machine()
    p = paced(machine)
    machine.run(1.0, cpus=2, others=0.8)  # 40% of two CPUs
    assert p.wait(worked=True, elapsed=0.05) == pace.PASS_SECONDS - 0.05


def test_while_other_work_keeps_the_cpus_busy_a_pass_comes_every_second():
    machine = Machine()
    p = paced(machine)
    machine.run(1.0, cpus=2, others=1.9)
    assert p.wait(worked=True, elapsed=0.05) == pace.BUSY_PASS_SECONDS - 0.05
    machine.run(1.0, cpus=2, others=0.2)  # the load eased: full pace again
    assert p.wait(worked=True, elapsed=0.3) == 0.0


def test_busy_or_not_the_full_pace_is_back_once_the_oldest_delivery_due_has_waited_half_a_minute():
    machine = Machine()
    p = paced(machine)
    machine.run(1.0, cpus=2, others=1.9)
    assert p.wait(worked=True, elapsed=0.0, waited=lambda: 29.0) == pace.BUSY_PASS_SECONDS
    machine.run(1.0, cpus=2, others=1.9)
    assert p.wait(worked=True, elapsed=0.0, waited=lambda: pace.MAX_WAIT_SECONDS) == pace.PASS_SECONDS
    machine.run(1.0, cpus=2, others=1.9)  # ... and a backlog is worked off pass after pass
    assert p.wait(worked=True, elapsed=0.0, waited=lambda: pace.MAX_WAIT_SECONDS, full=True) == 0.0


def test_its_own_use_is_not_other_work():
    machine = Machine()
    p = paced(machine, cpus=1)
    machine.run(1.0, cpus=1, others=0.1, own=0.9)  # catching up alone on one CPU
    assert not p.others_busy()
    machine.run(1.0, cpus=1, others=0.8, own=0.2)
    assert p.others_busy()


def test_with_cpu_to_spare_a_backlog_is_worked_off_pass_after_pass():
    machine = Machine()
    p = paced(machine)
    machine.run(1.0, cpus=2, others=1.9)  # a burst of redemptions
    assert p.wait(worked=True, elapsed=0.05, full=True) == pace.BUSY_PASS_SECONDS - 0.05
    machine.run(1.0, cpus=2, others=0.3, own=0.9)  # catching up after it
    assert p.wait(worked=True, elapsed=0.05, full=True) == 0.0
    machine.run(0.3, cpus=2, others=0.3, own=0.9)
    assert p.wait(worked=True, elapsed=0.05, full=False) == pace.PASS_SECONDS - 0.05  # the last of it


def test_a_reading_that_began_while_idle_is_no_reason_to_go_flat_out():
    machine = Machine()
    p = paced(machine)
    machine.run(0.45, cpus=2, others=0.0)
    assert p.wait(worked=False, elapsed=0.0) == pace.IDLE_SECONDS
    machine.run(0.05, cpus=2, others=0.0)
    machine.run(0.3, cpus=2, others=1.6)  # a burst of redemptions begins: its events are the work
    assert p.wait(worked=True, elapsed=0.05, full=True) == pace.PASS_SECONDS - 0.05  # 0.46 of all CPUs read
    machine.run(0.3, cpus=2, others=0.6, own=0.9)  # the burst was short: read while working, the CPUs are spare
    assert p.wait(worked=True, elapsed=0.05, full=True) == 0.0


def test_while_the_cpus_are_busy_a_full_pass_waits_its_second_too():
    machine = Machine()
    p = paced(machine)
    machine.run(1.0, cpus=2, others=1.9)
    assert p.wait(worked=True, elapsed=0.05, full=True) == pace.BUSY_PASS_SECONDS - 0.05


def test_the_cpus_business_is_read_over_a_quarter_second_at_least():
    machine = Machine()
    p = paced(machine)
    machine.run(1.0, cpus=2, others=1.9)
    assert p.others_busy()
    machine.run(0.02, cpus=2, others=0.0)  # a pass right after: too short to tell, the verdict stands
    assert p.others_busy()
    machine.run(0.3, cpus=2, others=0.0)  # read over the 0.32 s since the last reading
    assert not p.others_busy()


def test_nothing_to_do_is_a_look_twice_a_second_busy_or_not():
    machine = Machine()
    p = paced(machine)
    machine.run(1.0, cpus=2, others=2.0)
    assert p.wait(worked=False, elapsed=0.01) == pace.IDLE_SECONDS


def test_where_the_cpus_cannot_be_read_the_pace_is_the_full_one():
    p = Pace(ticks=lambda: None, own_seconds=lambda: 0.0, hz=100)
    assert not p.others_busy() and p.wait(worked=True, elapsed=0.0) == pace.PASS_SECONDS


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/stat is Linux's")
def test_this_machines_counters_read_as_busy_and_total_ticks():
    busy, total = pace.cpu_ticks()
    assert 0 <= busy <= total and total > 0
