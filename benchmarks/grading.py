"""Measure grading a class: 30 mixed solutions, 4 at a time, learners' code sandboxed.

The class is drawn from the submissions the grader is tested on (correct, wrong and
hostile ones, in turn), graded on a sandboxed LocalStack of its own exactly as
`sfnlab grade` does. Besides the wall time it prints the CPU time each solution costs
(LocalStack, the Lambdas' processes, the grader): on a busy shared machine the wall time
says little, the CPU time says what a quiet 2-core machine would need.

    .sfnlab/venv/bin/python benchmarks/grading.py [--class-size 30] [--jobs 4]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))  # for the tests' submissions

import psutil  # noqa: E402

from sfnlab import embedded  # noqa: E402
from sfnlab.grading import grade  # noqa: E402
from sfnlab.grading.stack import grading_stack  # noqa: E402
from tests.integration.grading.submissions import assemble, load_all  # noqa: E402

TARGET_SECONDS = 45.0
CORES = 2


def the_class(root: Path, size: int) -> list[Path]:
    submissions = load_all()
    folders = []
    for number in range(size):
        submission = submissions[number % len(submissions)]
        holders = {
            "@@HOME@@": str(root / "nobody"),
            "@@CLASSMATE@@": str(root),
            "@@KIT@@": str(root),
        }
        folders.append(assemble(submission, root / f"learner-{number:02d}", holders))
    return folders


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
    """CPU seconds used by LocalStack, the processes it starts (the Lambdas'), and the grader.

    The Lambdas' processes are sampled every SAMPLE seconds: killed sandboxes are never
    reaped by LocalStack, so the kernel's accounts of reaped children miss them. The
    sampling thread's own CPU is not charged to the grader.
    """

    SAMPLE = 0.1

    def __init__(self, pid: int) -> None:
        self.localstack = psutil.Process(pid)
        self.pid = pid
        self.first: dict[int, float] = {}  # descendant -> its CPU when first seen
        self.last: dict[int, float] = {}  # descendant -> its CPU when last seen
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
            self.last[pid] = table[pid][1]
            pending += offspring.get(pid, [])

    def _sample(self) -> None:
        while not self._stop.wait(self.SAMPLE):
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
        localstack, grader = self.localstack.cpu_times(), psutil.Process().cpu_times()
        self.localstack_seconds = own(localstack) - own(self.start[0])
        self.grader_seconds = own(grader) - own(self.start[1]) - self.sampler_seconds
        self.lambda_seconds = sum(self.last[pid] - self.first[pid] for pid in self.last)


def own(times: Any) -> float:
    return times.user + times.system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--class-size", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir, grading_stack() as settings:
        folders = the_class(Path(workdir), args.class_size)
        pid = embedded.running_embedded(settings).pid
        with CpuMeter(pid) as cpu:
            started = time.monotonic()
            reports = grade(folders, settings, jobs=args.jobs)
            seconds = time.monotonic() - started
    load = psutil.getloadavg()[0]
    per_solution = (cpu.localstack_seconds + cpu.lambda_seconds + cpu.grader_seconds) / len(folders)
    quiet = per_solution * len(folders) / CORES
    scores = Counter(report.score for report in reports)
    print(f"{'measure':<58} {'value':>14}   target")
    ok = "ok" if seconds <= TARGET_SECONDS else "MISSED"
    print(
        f"{f'grading {len(folders)} solutions ({args.jobs} at a time, sandboxed)':<58} "
        f"{seconds:>12.1f} s   <= {TARGET_SECONDS:.0f} s  {ok}"
    )
    rows = [
        ("CPU per solution: LocalStack", cpu.localstack_seconds / len(folders)),
        ("CPU per solution: Lambda processes (sandboxed)", cpu.lambda_seconds / len(folders)),
        ("CPU per solution: the grader", cpu.grader_seconds / len(folders)),
        ("the same class on an idle 2-core machine (CPU-bound)", quiet),
    ]
    for name, value in rows:
        print(f"{name:<58} {value:>12.2f} s")
    not_graded = sum(not report.graded for report in reports)
    print(
        f"(load average during the run: {load:.1f} on {psutil.cpu_count()} cores; "
        f"scores: {dict(scores)}; not graded: {not_graded})"
    )


if __name__ == "__main__":
    main()
