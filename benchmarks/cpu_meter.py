"""CPU time of a LocalStack, of every process below it, and of the benchmark itself.

Shared by the benchmarks that load a LocalStack (`grading.py`, `load.py`).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import psutil

TICKS = os.sysconf("SC_CLK_TCK")


def processes() -> dict[int, tuple[int, float]]:
    """Every process: its parent, and its own user and system time (from /proc)."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        found[int(name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS)
    return found


class CpuMeter:
    """CPU seconds used by LocalStack, the processes below it (the Lambdas'), and this
    process (the grader, or the load's clients); and how many processes were started.

    The Lambdas' processes are sampled every `sample` seconds: killed sandboxes are never
    reaped by LocalStack, so the kernel's accounts of reaped children miss them (and a
    process that lives less than `sample` seconds may be missed too). The sampling thread's
    own CPU is not charged to this process.
    """

    SAMPLE = 0.1

    def __init__(self, pid: int, sample: float = SAMPLE) -> None:
        self.localstack = psutil.Process(pid)
        self.sample = sample  # seconds between looks at /proc, which cost CPU too
        self.pid = pid
        self.first: dict[int, float] = {}  # descendant -> its CPU when first seen
        self.last: dict[int, float] = {}  # descendant -> its CPU when last seen
        self.already: set[int] = set()  # descendants when the measure began
        self.sampler_seconds = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample_once(self, starting: bool = False) -> None:
        table = processes()
        offspring: dict[int, list[int]] = {}
        for pid, (parent, _) in table.items():
            offspring.setdefault(parent, []).append(pid)
        pending = list(offspring.get(self.pid, []))
        while pending:
            pid = pending.pop()
            # A process first seen after the start used all of its time during the run.
            self.first.setdefault(pid, table[pid][1] if starting else 0.0)
            if starting:
                self.already.add(pid)
            self.last[pid] = table[pid][1]
            pending += offspring.get(pid, [])

    def _sample(self) -> None:
        while not self._stop.wait(self.sample):
            self._sample_once()
        self._sample_once()
        self.sampler_seconds = time.thread_time()

    def __enter__(self) -> CpuMeter:
        self._sample_once(starting=True)
        self.start = (self.localstack.cpu_times(), psutil.Process().cpu_times())
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        localstack, this = self.localstack.cpu_times(), psutil.Process().cpu_times()
        self.localstack_seconds = own(localstack) - own(self.start[0])
        self.own_seconds = own(this) - own(self.start[1]) - self.sampler_seconds
        self.lambda_seconds = sum(self.last[pid] - self.first[pid] for pid in self.last)
        self.started = len(self.last.keys() - self.already)


def own(times: Any) -> float:
    return times.user + times.system
