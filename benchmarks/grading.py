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
import contextlib
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

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


class CpuMeter:
    """CPU seconds used by LocalStack, every process it starts, and this process."""

    def __init__(self, pid: int) -> None:
        self.localstack = psutil.Process(pid)
        self.children: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def used(process: psutil.Process) -> float:
        times = process.cpu_times()
        return times.user + times.system

    def _sample(self) -> None:
        while not self._stop.is_set():
            for child in self.localstack.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    self.children[child.pid] = self.used(child)
            self._stop.wait(0.05)

    def __enter__(self) -> CpuMeter:
        self.start = (self.used(self.localstack), self.used(psutil.Process()))
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.localstack_seconds = self.used(self.localstack) - self.start[0]
        self.grader_seconds = self.used(psutil.Process()) - self.start[1]
        self.lambda_seconds = sum(self.children.values())


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
