"""Wall time and peak memory of one benchmark stage, without third-party dependencies.

Peak memory is the resident set size (RSS) of the process tree: this process plus every
descendant except those named in `exclude` (the sandbox server, which stands in for the
vendor's API and is not part of the pipeline). The kernel's own high-water mark of this
process (`VmHWM`, reset per stage through `/proc/self/clear_refs`) catches its peaks
whatever their length; a thread sampling every 0.2 s adds the descendants' RSS.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PROC = Path("/proc")


def _status_kib(pid: int | str, key: str) -> int:
    """One `kB` field of /proc/<pid>/status (0 when the process is gone)."""
    try:
        for line in (_PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    """The direct children of `pid` (/proc/<pid>/task/<tid>/children: no scan of all of /proc,
    which on a busy machine would cost the measured process real CPU time)."""
    found: list[int] = []
    try:
        tasks = list((_PROC / str(pid) / "task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found.extend(int(child) for child in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return found


def descendants(pid: int, exclude: set[int]) -> list[int]:
    """Every live descendant of `pid`, skipping the `exclude` subtrees."""
    found, todo = [], [pid]
    while todo:
        for child in _children(todo.pop()):
            if child not in exclude:
                found.append(child)
                todo.append(child)
    return found


def _rss_bytes(pid: int) -> int:
    try:
        return int((_PROC / str(pid) / "statm").read_text().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds another process has used so far, from /proc/<pid>/stat
    (0.0 when it is gone)."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
        # Fields after the command name, which is in parentheses and may hold spaces:
        # utime and stime are the 14th and 15th fields of the line.
        fields = stat[stat.rindex(")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
    except (OSError, ValueError, IndexError):
        return 0.0


def cpu_jiffies() -> tuple[int, int]:
    """(stolen, all) CPU time of the whole machine so far, in clock ticks, from /proc/stat:
    the time the hypervisor gave this virtual machine's cores to other guests, and all time.
    (0, 0) where /proc/stat has no steal column."""
    try:
        fields = [int(x) for x in (_PROC / "stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    # user nice system idle iowait irq softirq steal [guest guest_nice: inside user / nice]
    return (fields[7], sum(fields[:8])) if len(fields) >= 8 else (0, 0)


def steal_share(before: tuple[int, int], after: tuple[int, int]) -> float | None:
    """The share of the CPU time between two `cpu_jiffies` readings that was stolen (None:
    no time passed, or no steal column)."""
    if after[1] <= before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def reset_peak() -> bool:
    """Reset this process's VmHWM (Linux >= 4.0); False where the kernel does not allow it."""
    try:
        (_PROC / "self" / "clear_refs").write_text("5")
        return True
    except OSError:
        return False


@dataclass
class Measurement:
    """What one stage cost: wall seconds, CPU seconds of this process (user + system, all
    threads: less disturbed than wall time when other work shares the cores) and the peak
    RSS of the process tree in bytes."""

    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss: int = 0
    #: The share of the machine's CPU time stolen by the hypervisor while the stage ran (None:
    #: not known). A shared host's steal stretches every figure in seconds.
    steal_share: float | None = None
    #: The machine's one-minute load average when the stage ended.
    load_average: float = 0.0
    #: CPU seconds of the processes left out of the tree (`exclude`: the sandbox standing in
    #: for the vendor's API) while the stage ran; None when none was left out. They run on
    #: the same cores: a slow sandbox lowers the pipeline's figures (a quadratic listing once
    #: did, docs/performance.md change 25).
    excluded_cpu_seconds: float | None = None
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def peak_mib(self) -> float:
        """Peak RSS in MiB."""
        return self.peak_rss / 2**20


@contextmanager
def measured(exclude: set[int] | None = None, interval: float = 0.2) -> Iterator[Measurement]:
    """Time the block and record the peak RSS of this process tree while it runs."""
    result = Measurement()
    excluded = exclude if exclude is not None else set()
    me = os.getpid()
    stop = threading.Event()
    peak = [0]

    def sample() -> None:
        while not stop.is_set():
            total = _rss_bytes(me) + sum(_rss_bytes(p) for p in descendants(me, excluded))
            peak[0] = max(peak[0], total)
            stop.wait(interval)

    reset_peak()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    cpu_started = time.process_time()
    excluded_started = {pid: process_cpu_seconds(pid) for pid in excluded}
    jiffies = cpu_jiffies()
    try:
        yield result
    finally:
        result.seconds = time.perf_counter() - started
        result.cpu_seconds = time.process_time() - cpu_started
        result.steal_share = steal_share(jiffies, cpu_jiffies())
        if excluded:
            result.excluded_cpu_seconds = sum(
                process_cpu_seconds(pid) - started_cpu
                for pid, started_cpu in excluded_started.items())
        result.load_average = os.getloadavg()[0]
        stop.set()
        sampler.join()
        own_peak = _status_kib("self", "VmHWM") * 1024
        result.peak_rss = max(peak[0], own_peak)
