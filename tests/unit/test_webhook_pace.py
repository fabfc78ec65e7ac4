"""The delivery worker's pace (exchange/webhooks/pace.py): a pass every quarter second while
there is a little work and the next at once after a full one, every second while other work
keeps the CPUs busy, a look twice a second when there is none."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from exchange.webhooks import pace
from exchange.webhooks.pace import Cpus, Pace


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
    busy, total = Cpus().ticks()
    assert 0 <= busy <= total and total > 0


def proc_stat(root: Path, **cpus: tuple[int, int]) -> None:
    """/proc/stat with each CPU's (busy, idle) ticks (busy as user time), and the aggregate line."""
    lines = [f"cpu  {sum(b for b, _ in cpus.values())} 0 0 {sum(i for _, i in cpus.values())} 0 0 0 0 0 0"]
    lines += [f"{name} {busy} 0 0 {idle} 0 0 0 0 0 0" for name, (busy, idle) in cpus.items()]
    (root / "stat").write_text("\n".join(lines) + "\nintr 12345 0 0\nctxt 999\n")


def cgroup(proc: Path, cgroups: Path, path: str, limits: dict[str, str], usage: dict[str, int]) -> None:
    (proc / "self").mkdir(parents=True, exist_ok=True)
    (proc / "self" / "cgroup").write_text(f"0::{path}\n")
    for where in {*limits, *usage}:
        (cgroups / where).mkdir(parents=True, exist_ok=True)
    for where, cpu_max in limits.items():
        (cgroups / where / "cpu.max").write_text(cpu_max + "\n")
    for where, usec in usage.items():
        (cgroups / where / "cpu.stat").write_text(f"usage_usec {usec}\nuser_usec {usec}\nsystem_usec 0\n")


def test_only_the_cpus_this_process_may_run_on_are_read(tmp_path):
    proc_stat(tmp_path, cpu0=(90, 10), cpu1=(5, 95), cpu2=(100, 0))
    cpus = Cpus(proc=str(tmp_path), cgroups=str(tmp_path / "none"), affinity={1}, hz=100)
    assert cpus.count == 1 and cpus.ticks() == (5, 100)  # pinned to an idle CPU of a busy machine
    everywhere = Cpus(proc=str(tmp_path), cgroups=str(tmp_path / "none"), affinity={0, 1, 2}, hz=100)
    assert everywhere.count == 3 and everywhere.ticks() == (195, 300)


def test_in_a_container_capped_at_a_cpu_and_a_half_its_own_usage_is_read_against_that(tmp_path):
    proc, cgroups = tmp_path / "proc", tmp_path / "cgroup"
    proc.mkdir()
    proc_stat(proc, **{f"cpu{n}": (0, 100) for n in range(64)})  # the host: idle, as far as it says
    cgroup(proc, cgroups, "/", {"": "150000 100000"}, {"": 2_000_000})
    seconds = [10.0]
    cpus = Cpus(proc=str(proc), cgroups=str(cgroups), affinity=set(range(64)), hz=100, monotonic=lambda: seconds[0])
    assert cpus.count == 1.5 and cpus.ticks() == (200, 1500)
    p = Pace(ticks=cpus.ticks, own_seconds=lambda: 0.0, hz=100, cpus=cpus.count)
    seconds[0] += 1.0
    (cgroups / "cpu.stat").write_text("usage_usec 3400000\n")  # 1.4 CPU-seconds in that second
    assert p.others_busy()  # the container is saturated, though its host is not


def test_a_quota_set_above_this_processs_own_cgroup_counts_and_the_tightest_wins(tmp_path):
    proc, cgroups = tmp_path / "proc", tmp_path / "cgroup"
    proc.mkdir()
    proc_stat(proc, cpu0=(0, 100), cpu1=(0, 100), cpu2=(0, 100), cpu3=(0, 100))
    cgroup(proc, cgroups, "/kubepods/pod1/app", {"kubepods": "300000 100000", "kubepods/pod1": "50000 100000",
                                                 "kubepods/pod1/app": "max 100000"},
           {"kubepods/pod1": 7_000_000})
    cpus = Cpus(proc=str(proc), cgroups=str(cgroups), affinity={0, 1, 2, 3}, hz=100, monotonic=lambda: 1.0)
    assert cpus.count == 0.5 and cpus.ticks() == (700, 50)


def test_a_cpuset_tighter_than_the_quota_is_read_from_proc_stat(tmp_path):
    proc, cgroups = tmp_path / "proc", tmp_path / "cgroup"
    proc.mkdir()
    proc_stat(proc, cpu0=(30, 70), cpu1=(0, 100))
    cgroup(proc, cgroups, "/", {"": "400000 100000"}, {"": 1})
    cpus = Cpus(proc=str(proc), cgroups=str(cgroups), affinity={0}, hz=100)
    assert cpus.count == 1 and cpus.ticks() == (30, 100)


def test_without_cgroup_v2_or_a_quota_proc_stat_is_read(tmp_path):
    proc, cgroups = tmp_path / "proc", tmp_path / "cgroup"
    proc.mkdir()
    proc_stat(proc, cpu0=(30, 70), cpu1=(10, 90))
    cgroup(proc, cgroups, "/", {"": "max 100000"}, {"": 1})
    assert Cpus(proc=str(proc), cgroups=str(cgroups), affinity={0, 1}, hz=100).ticks() == (40, 200)
    (proc / "self" / "cgroup").write_text("1:cpu:/\n")  # cgroup v1 only
    assert Cpus(proc=str(proc), cgroups=str(cgroups), affinity={0, 1}, hz=100).ticks() == (40, 200)
