"""Measure grading a class: 30 mixed solutions, 4 at a time, learners' code sandboxed.

The class is drawn from the submissions the grader is tested on (correct, wrong and
hostile ones, in turn), graded on a sandboxed LocalStack of its own exactly as
`sfnlab grade` does. Besides the wall time it prints the CPU time each solution costs
(LocalStack, the Lambdas' processes, the grader): on a busy shared machine the wall time
says little, the CPU time says what a quiet 2-core machine would need. It also checks
that every solution was graded exactly as its test expects: speed bought with wrong
verdicts would show there. The wall time runs from the first solution's start to the
last report; the grading LocalStack's start-up before it (its services loaded, see
`grading/stack.py`) is printed on a line of its own.

    .sfnlab/venv/bin/python benchmarks/grading.py [--class-size 30] [--jobs 4] [--runs 3]

With `--runs N` it grades N classes one after another, each on a LocalStack of its own,
and prints the median with the range.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
from cpu_meter import CpuMeter

from sfnlab.grading import grade
from sfnlab.grading.grading_stack import grading_stack
from sfnlab.localstack import embedded
from sfnlab.testing.submissions import assemble, load_all

TARGET_SECONDS = 45.0
CORES = 2


def the_class(root: Path, size: int) -> tuple[list[Path], list[frozenset[str]]]:
    """`size` learners' folders, the submissions in turn; and what each must fail."""
    submissions = load_all()
    folders, expected = [], []
    for number in range(size):
        submission = submissions[number % len(submissions)]
        holders = {
            "@@HOME@@": str(root / "nobody"),
            "@@CLASSMATE@@": str(root),
            "@@KIT@@": str(root),
        }
        folders.append(assemble(submission, root / f"learner-{number:02d}", holders))
        expected.append(submission.fails)
    return folders, expected


@dataclass
class Measured:
    seconds: float  # wall time of the class
    cpu: CpuMeter
    as_expected: int  # solutions whose failed requirements are exactly the expected ones
    solution_seconds: float  # median time of one solution, grading and clean-up
    load: float
    start_up: float  # the grading LocalStack's, up to its services loaded (not in `seconds`)

    def per_solution(self, size: int) -> dict[str, float]:
        return {
            "LocalStack": self.cpu.localstack_seconds / size,
            "Lambda processes (sandboxed)": self.cpu.lambda_seconds / size,
            "the grader": self.cpu.own_seconds / size,
        }


def measure(size: int, jobs: int) -> Measured:
    """Grade a class on a grading LocalStack of its own, as `sfnlab grade` does."""
    begun = time.monotonic()
    with tempfile.TemporaryDirectory() as workdir, grading_stack(jobs=jobs) as settings:
        start_up = time.monotonic() - begun
        folders, expected = the_class(Path(workdir), size)
        pid = embedded.running_embedded(settings).pid
        with CpuMeter(pid) as cpu:
            started = time.monotonic()
            reports = grade(folders, settings, jobs=jobs)
            seconds = time.monotonic() - started
    unexpected = [
        f"{folder.name} ({folder.parent.name}): failed {sorted(report.failed)}, "
        f"expected {sorted(fails)}; {report.explained or ''}"
        + "".join(
            f"\n  {verdict.requirement.id}: {verdict.feedback}"
            for verdict in report.verdicts
            if verdict.passed == (verdict.requirement.id in fails)
        )
        for folder, report, fails in zip(folders, reports, expected, strict=True)
        if not report.graded or report.failed != fails
    ]
    for line in unexpected:
        print(f"not as expected: {line}", file=sys.stderr)
    as_expected = len(folders) - len(unexpected)
    solution_seconds = statistics.median(report.seconds for report in reports)
    load = psutil.getloadavg()[0]
    return Measured(seconds, cpu, as_expected, solution_seconds, load, start_up)


def spread(values: list[float], unit: str = "s") -> str:
    if len(values) == 1:
        return f"{values[0]:.2f} {unit}"
    return f"{statistics.median(values):.2f} {unit} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--class-size", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--runs", type=int, default=1, help="classes graded, one after another")
    args = parser.parse_args()
    size = args.class_size
    runs = [measure(size, args.jobs) for _ in range(args.runs)]
    walls = [run.seconds for run in runs]
    wall = statistics.median(walls)
    ok = "ok" if wall <= TARGET_SECONDS else "MISSED"
    label = "median of " + str(len(runs)) + " classes" if len(runs) > 1 else ""
    print(f"{'measure':<52} {'value':>26}   target")
    print(
        f"{f'grading {size} solutions ({args.jobs} at a time, sandboxed)':<52} "
        f"{spread(walls):>26}   <= {TARGET_SECONDS:.0f} s  {ok} {label}".rstrip()
    )
    totals = [sum(run.per_solution(size).values()) for run in runs]
    for part in runs[0].per_solution(size):
        values = [run.per_solution(size)[part] for run in runs]
        print(f"{'CPU per solution: ' + part:<52} {spread(values):>26}")
    print(f"{'CPU per solution, all of it':<52} {spread(totals):>26}")
    quiet = [total * size / CORES for total in totals]
    print(f"{'the same class on an idle 2-core machine (CPU-bound)':<52} {spread(quiet):>26}")
    print(
        f"{'one solution, from its start to its clean-up':<52} "
        f"{spread([run.solution_seconds for run in runs]):>26}"
    )
    print(
        f"{'before it: the grading LocalStack started, services loaded':<52} "
        f"{spread([run.start_up for run in runs]):>26}"
    )
    expected = [run.as_expected for run in runs]
    print(
        f"{'solutions graded exactly as their tests expect':<52} "
        f"{f'{min(expected)}/{size}':>26}   {size}/{size}  "
        f"{'ok' if min(expected) == size else 'MISSED'}"
    )
    loads = ", ".join(f"{run.load:.1f}" for run in runs)
    print(f"(load average at the end of each class: {loads}, on {psutil.cpu_count()} cores)")


if __name__ == "__main__":
    main()
