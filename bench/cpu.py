"""CPU accounting for benchmarks on a shared machine.

Wall-clock ratios swing with whatever else runs on the machine's two cores. CPU time spent
by the processes under test (and the database backends serving them) per operation does
not, so benchmarks report it next to throughput, with how much CPU other processes took
during the run (the contention behind the wall-clock figures).

Linux only (``/proc``); elsewhere every figure is NaN.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (0 when it is gone or unreadable)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the command: state is fields[0], utime fields[11], stime fields[12].
    return (int(fields[11]) + int(fields[12])) / _TICK


def children(pid: int) -> set[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return {int(x) for x in handle.read().split()}
    except OSError:
        return set()


def machine_busy() -> tuple[float, float]:
    """(busy CPU seconds, total CPU seconds) of the whole machine so far, all cores."""
    try:
        with open("/proc/stat") as handle:
            values = [int(x) for x in handle.readline().split()[1:]]
    except OSError:
        return float("nan"), float("nan")
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    return (total - idle) / _TICK, total / _TICK


def database_backends(database: str) -> set[int]:
    """PIDs of PostgreSQL backends connected to ``database`` when the server runs here."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [database],
        )
        pids = {int(row[0]) for row in cursor.fetchall()}
    return {pid for pid in pids if os.path.exists(f"/proc/{pid}/stat")}


@dataclass
class CpuSample:
    processes: dict[int, float]
    own: float
    busy: float
    total: float


def sample(pids: Iterable[int]) -> CpuSample:
    busy, total = machine_busy()
    return CpuSample(
        {pid: process_cpu(pid) for pid in pids}, os.times()[0] + os.times()[1], busy, total
    )


@dataclass
class CpuUse:
    tested: float  # CPU seconds of the processes under test (server + database backends)
    load_generator: float  # this process
    others: float  # everything else on the machine
    wall_cores: float  # machine cores' worth of time that passed

    def others_cores(self, seconds: float) -> float:
        return self.others / seconds if seconds else float("nan")


def used(before: CpuSample, after: CpuSample) -> CpuUse:
    # A process that started during the phase counts from zero.
    tested = sum(after.processes[p] - before.processes.get(p, 0.0) for p in after.processes)
    own = after.own - before.own
    busy = after.busy - before.busy
    return CpuUse(tested, own, max(0.0, busy - tested - own), after.total - before.total)
