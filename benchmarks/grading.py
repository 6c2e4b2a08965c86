"""Measure grading a class: 30 mixed solutions, 4 at a time, learners' code sandboxed.

The class is drawn from the submissions the grader is tested on (correct, wrong and
hostile ones, in turn), graded on a sandboxed LocalStack of its own exactly as
`sfnlab grade` does. Besides the wall time it prints the CPU time each solution costs
(LocalStack, the Lambdas' processes, the grader): on a busy shared machine the wall time
says little, the CPU time says what a quiet 2-core machine would need. It also checks
that every solution was graded exactly as its test expects: speed bought with wrong
verdicts would show there. The wall time runs from the first solution's start to the
last report; the grading LocalStack's start-up before it (its services loaded, see
`grading/grading_stack.py`) is printed on a line of its own. The grading stack gets a
network of its own as `sfnlab grade` gives it (SFNLAB_GRADING_NETWORK; `shared` to
measure without), and the CPU of the process that carries the grader's calls into it
is counted too.

    .sfnlab/venv/bin/python benchmarks/grading.py [--class-size 30] [--jobs 4] [--runs 3]

With `--runs N` it grades N classes one after another, each on a LocalStack of its own,
and prints the median with the range. With `--start-ups N` it grades nothing: it starts
the grading stack N times in a network of its own and N times on the machine's, in
turn, and prints what each start-up took (wall and LocalStack's CPU), to compare.
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
from sfnlab.grading.network import network_of
from sfnlab.localstack import embedded
from sfnlab.settings import load_settings
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
    network_seconds: float | None  # the network keeper's CPU; None: no network of its own

    def per_solution(self, size: int) -> dict[str, float]:
        parts = {
            "LocalStack": self.cpu.localstack_seconds / size,
            "Lambda processes (sandboxed)": self.cpu.lambda_seconds / size,
            "the grader": self.cpu.own_seconds / size,
        }
        if self.network_seconds is not None:
            parts["the network's keeper (the grader's calls)"] = self.network_seconds / size
        return parts


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def measure(size: int, jobs: int) -> Measured:
    """Grade a class on a grading LocalStack of its own, as `sfnlab grade` does."""
    begun = time.monotonic()
    with (
        tempfile.TemporaryDirectory() as workdir,
        grading_stack(load_settings(), jobs=jobs) as settings,
    ):
        start_up = time.monotonic() - begun
        folders, expected = the_class(Path(workdir), size)
        pid = embedded.running_embedded(settings).pid
        network = network_of(settings.endpoint)
        keeper_before = cpu_seconds(network.keeper_pid) if network else 0.0
        with CpuMeter(pid) as cpu:
            started = time.monotonic()
            reports = grade(folders, settings, jobs=jobs)
            seconds = time.monotonic() - started
        network_seconds = cpu_seconds(network.keeper_pid) - keeper_before if network else None
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
    return Measured(seconds, cpu, as_expected, solution_seconds, load, start_up, network_seconds)


def start_ups(count: int, jobs: int) -> None:
    """Start the grading stack `count` times each way, in turn; print the figures."""
    figures: dict[str, tuple[list[float], list[float]]] = {"isolated": ([], []), "shared": ([], [])}
    for _ in range(count):
        for network, (walls, cpus) in figures.items():
            begun = time.monotonic()
            with grading_stack(load_settings(), jobs=jobs, network=network) as settings:
                walls.append(time.monotonic() - begun)
                cpus.append(cpu_seconds(embedded.running_embedded(settings).pid))
    names = {"isolated": "own network", "shared": "machine's network"}
    for network, (walls, cpus) in figures.items():
        label = f"grading stack started, services loaded ({names[network]})"
        print(f"{label:<60} {spread(walls):>26}")
        label = f"  LocalStack's CPU up to then ({names[network]})"
        print(f"{label:<60} {spread(cpus):>26}")
    print(f"(load average at the end: {psutil.getloadavg()[0]:.1f}, on {psutil.cpu_count()} cores)")


def spread(values: list[float], unit: str = "s") -> str:
    if len(values) == 1:
        return f"{values[0]:.2f} {unit}"
    return f"{statistics.median(values):.2f} {unit} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--class-size", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--runs", type=int, default=1, help="classes graded, one after another")
    parser.add_argument(
        "--start-ups", type=int, default=0, help="only compare start-ups, this many each way"
    )
    args = parser.parse_args()
    if args.start_ups > 0:
        start_ups(args.start_ups, args.jobs)
        return
    size = args.class_size
    runs = [measure(size, args.jobs) for _ in range(args.runs)]
    walls = [run.seconds for run in runs]
    wall = statistics.median(walls)
    ok = "ok" if wall <= TARGET_SECONDS else "MISSED"
    label = "median of " + str(len(runs)) + " classes" if len(runs) > 1 else ""
    where = "own network" if runs[0].network_seconds is not None else "shared network"
    print(f"{'measure':<52} {'value':>26}   target")
    print(
        f"{f'grading {size} solutions ({args.jobs} at a time, sandboxed, {where})':<52} "
        f"{spread(walls):>26}   <= {TARGET_SECONDS:.0f} s  {ok} {label}".rstrip()
    )
    totals = [sum(run.per_solution(size).values()) for run in runs]
    for part in runs[0].per_solution(size):
        values = [run.per_solution(size).get(part, 0.0) for run in runs]
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
