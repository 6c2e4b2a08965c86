"""One submission in a grading platform's container, graded from a cold start.

Gradescope runs `run_autograder`, PrairieLearn its grader script, each in a container of
its own per submission; both call `sfnlab autograder run <platform>`, which is `run()`:
it finds the learner's files where the platform put them (below SFNLAB_PLATFORM_ROOT,
by default the platform's own root), checks them, starts a grading LocalStack, grades,
and writes the platform's results file, whatever happened. The submission is the only
code in the container besides the kit, so:

- the container is the sandbox where bubblewrap cannot build its namespaces (see
  `grading_stack.container_sandbox`); the mode used is printed for the instructor;
- a LocalStack that stops in the middle of the runs in a way only the learner's code
  could have stopped it (it shut down cleanly, as it does when told to; or it was killed
  while that code could reach it, and not for want of memory) is the learner's doing: the
  submission keeps what it earned before, and the report says so. Anything else that goes
  wrong is the kit's, reported as such, never as the learner's zero;
- the whole run keeps within a time budget set below the platform's limit: a watchdog
  writes a kit-fault result and ends the run if it would not.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sfnlab.errors import KitFault
from sfnlab.grading import faults, intake
from sfnlab.grading.checks import not_checked
from sfnlab.grading.grader import (
    DEFAULT_TIME_LIMIT,
    SolutionReport,
    grade_solution,
    refused_report,
)
from sfnlab.grading.platforms import gradescope, prairielearn
from sfnlab.grading.platforms.results import platform_results
from sfnlab.grading.reports import learner_summary, write_json
from sfnlab.grading.requirements import REQUIREMENTS
from sfnlab.settings import Settings

STOP_MARGIN = 15.0  # seconds of the budget kept for stopping LocalStack and writing results
MIN_TIME_LIMIT = 20.0  # a solution given less would be judged on too little
EXIT_WAIT = 15.0  # seconds a LocalStack that stopped answering may take to exit
MAX_DATA_FILES = 50
MAX_DATA_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Platform:
    name: str
    root: str  # its folder in the container, unless SFNLAB_PLATFORM_ROOT says otherwise
    submission: str  # below the root: the learner's files
    results: str  # below the root: where the results go
    budget: float  # seconds the kit allows itself, well inside the platform's limit
    gradable_only: bool  # refuse to run what cannot be graded whole (it costs no attempt)


PLATFORMS = {
    "gradescope": Platform(
        "gradescope", gradescope.ROOT, gradescope.SUBMISSION, gradescope.RESULTS, 300.0, False
    ),
    # info.json's `timeout` (templates/info.json) leaves this budget 30 s of room.
    "prairielearn": Platform(
        "prairielearn",
        prairielearn.ROOT,
        prairielearn.SUBMISSION,
        prairielearn.RESULTS,
        120.0,
        True,
    ),
}


@dataclass
class ContainerRun:
    platform: Platform
    results_path: Path
    report: SolutionReport
    sandbox: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def kit_failed(self) -> bool:
        return not self.report.graded


class NoCleanUp(Executor):
    """The container, and the LocalStack in it, are thrown away after the run: nothing in
    it needs removing one by one (each call is a done future: nothing left, no time)."""

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        done: Future = Future()
        done.set_result((None, 0.0))
        return done


@contextlib.contextmanager
def phase(timings: dict[str, float], name: str) -> Iterator[None]:
    started = time.monotonic()
    try:
        yield
    finally:
        timings[name] = time.monotonic() - started


def oom_kills() -> int:
    """Processes this container's memory limit has killed so far (cgroup v2, or v1)."""
    for path, key in (
        ("/sys/fs/cgroup/memory.events", "oom_kill"),
        ("/sys/fs/cgroup/memory/memory.oom_control", "oom_kill"),
    ):
        with contextlib.suppress(OSError, ValueError):
            for line in Path(path).read_text().splitlines():
                name, _, value = line.partition(" ")
                if name == key:
                    return int(value)
    return 0


def stopped_by(stack: Settings, sandbox: str, oom_before: int) -> Callable[[], str | None]:
    """How the learner's code stopped the grading LocalStack, if only it can have."""

    def ask() -> str | None:
        from sfnlab.localstack import embedded
        from sfnlab.support.polling import poll

        # Told to stop, LocalStack first stops its services (answering 503 meanwhile),
        # then exits: give it the time that takes before asking how it ended.
        poll(lambda: embedded.exit_status(stack) is not None, EXIT_WAIT, max_delay=0.2)
        status = embedded.exit_status(stack)
        if status is None or oom_kills() > oom_before:
            return None  # still running, or out of memory: the kit's (see kit_fault_note)
        if status == 0:
            return (
                "Your solution's code stopped the grading LocalStack: it shut down cleanly in "
                "the middle of the runs, which it does only when told to (through its "
                "/_localstack/health endpoint). Nothing after that could run."
            )
        if status < 0 and sandbox == "":
            return (
                f"The grading LocalStack was killed (signal {-status}) while your solution's "
                "code ran; in this container nothing but the grader and your code runs, and "
                "your code could reach it. Nothing after that could run."
            )
        return None

    return ask


def kit_fault_note(stack: Settings, oom_before: int) -> str:
    """What the instructor can do about a kit fault: the one cause the kit can name."""
    from sfnlab.localstack import embedded

    status = embedded.exit_status(stack)
    if status is not None and oom_kills() > oom_before:
        return (
            f" LocalStack was killed for want of memory (exit {status}): give the autograder "
            "more memory (2 GB is enough), then grade again."
        )
    if status is not None:
        return f" LocalStack ended with exit status {status} in the middle of the runs."
    return ""


def kit_fault_report(error: BaseException | str, source: str) -> SolutionReport:
    reason = error if isinstance(error, str) else faults.describe(error)
    explained = f"could not grade (kit error): {reason}"
    verdicts = [not_checked(r, explained) for r in REQUIREMENTS]
    return SolutionReport("submission", source, verdicts, explained=explained)


def files_from_data(data_file: Path, target: Path) -> Path | None:
    """The files of PrairieLearn's `submitted_answers._files` (base64, in data.json), side
    by side in `target`: for a question whose files are not copied to /grade/student."""
    try:
        data = json.loads(data_file.read_text())
        files = data["submitted_answers"]["_files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(files, list) or not files or len(files) > MAX_DATA_FILES:
        return None
    target.mkdir(parents=True)
    total = 0
    for entry in files:
        name = str(entry.get("name", "")) if isinstance(entry, dict) else ""
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", name) or name.startswith("."):
            continue  # only plain names: nothing can land outside `target`
        try:
            content = base64.b64decode(str(entry.get("contents", "")), validate=True)
        except ValueError:
            continue
        total += len(content)
        if total > MAX_DATA_BYTES:
            break
        (target / name).write_bytes(content)
    return target


def submission_folder(platform: Platform, root: Path, workdir: Path) -> Path:
    """Where the learner's files are: the platform's folder, or (PrairieLearn) data.json."""
    folder = root / platform.submission
    has_files = folder.is_dir() and any(folder.iterdir())
    if not has_files and platform.name == "prairielearn":
        from_data = files_from_data(root / "data" / "data.json", workdir / "from-data")
        if from_data is not None:
            return from_data
    return folder


def untaken_report(handed: intake.HandedIn) -> SolutionReport:
    """A submission not run: refused, or (where it costs no attempt) not gradable whole."""
    reason = handed.refused or "; ".join(handed.findings.problems if handed.findings else [])
    verdicts = [not_checked(r, f"nothing was run: {reason}") for r in REQUIREMENTS]
    report = SolutionReport(handed.name, str(handed.source), verdicts, refused=handed.refused)
    if handed.findings is not None:
        report.problems = list(handed.findings.problems)
        report.warnings = list(handed.findings.warnings)
    return report


class Watchdog:
    """Ends the run, having written a kit-fault result, if it would outlast its budget."""

    def __init__(self, seconds: float, give_up: Callable[[], None]) -> None:
        self._timer = threading.Timer(max(0.0, seconds), give_up)
        self._timer.daemon = True

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


def run(
    platform_name: str,
    settings: Settings,
    *,
    visibility: str = gradescope.DEFAULT_VISIBILITY,
    budget: float | None = None,
) -> ContainerRun:
    """Grade the one submission of a platform's container and write its results file."""
    platform = PLATFORMS[platform_name]
    budget = platform.budget if budget is None else budget
    started = time.monotonic()
    root = settings.platform_root or Path(platform.root)
    results_path = root / platform.results
    timings: dict[str, float] = {}

    def write(report: SolutionReport) -> None:
        write_json(results_path, platform_results(report, platform.name, visibility))

    def give_up() -> None:
        report = kit_fault_report(
            f"the grading did not end within its budget of {budget:.0f} s", str(root)
        )
        write(report)
        print(f"sfnlab: {report.explained}", file=sys.stderr, flush=True)
        stop_stacks()
        os._exit(5)

    with Watchdog(budget - STOP_MARGIN / 3, give_up):
        run_result = ContainerRun(platform, results_path, kit_fault_report("not run", str(root)))
        try:
            with tempfile.TemporaryDirectory(prefix="sfnlab-submission-") as workdir:
                with phase(timings, "submission checked"):
                    source = submission_folder(platform, root, Path(workdir))
                    handed = intake.take(source, Path(workdir), name="submission")
                if handed.folder is None or (
                    platform.gradable_only and handed.findings and handed.findings.problems
                ):
                    run_result.report = untaken_report(handed)
                else:
                    run_result.report, run_result.sandbox = grade_alone(
                        handed, settings, started + budget, timings
                    )
        except Exception as e:  # the kit's fault, whatever it is: said as such
            run_result.report = kit_fault_report(e, str(root))
        parts = {f"graded: {name}": t for name, t in run_result.report.timings.items()}
        run_result.timings = {**timings, **parts}
        write(run_result.report)
    return run_result


_stacks: list[Settings] = []  # the grading LocalStacks this run started, for the watchdog


def stop_stacks() -> None:
    from sfnlab.lab import lifecycle

    for stack in _stacks:
        with contextlib.suppress(Exception):
            lifecycle.down(stack)


def grade_alone(
    handed: intake.HandedIn, settings: Settings, deadline: float, timings: dict[str, float]
) -> tuple[SolutionReport, str]:
    """Grade one hand-in on a grading LocalStack of its own, sandboxed as well as the
    container allows; its report, and the sandbox mode used."""
    from sfnlab.grading.grading_stack import grading_stack, sandbox_of

    if handed.folder is None:
        return refused_report(handed.name, str(handed.source), handed.refused or "?"), ""
    oom_before = oom_kills()
    begun = time.monotonic()
    started: dict[str, float] = {}
    with grading_stack(container=True, jobs=1, base=settings, timings=started) as stack:
        timings["LocalStack started"] = time.monotonic() - begun
        timings.update({f"LocalStack started: {name}": t for name, t in started.items()})
        _stacks.append(stack)
        sandbox = sandbox_of(stack)
        time_limit = min(DEFAULT_TIME_LIMIT, deadline - time.monotonic() - STOP_MARGIN)
        if time_limit < MIN_TIME_LIMIT:
            raise KitFault(
                f"too little time was left to grade ({time_limit:.0f} s) after LocalStack "
                f"took {timings['LocalStack started']:.0f} s to start"
            )
        with phase(timings, "graded"):
            report = grade_solution(
                handed.folder,
                stack,
                time_limit=time_limit,
                clean_ups=NoCleanUp(),
                stopped_by_solution=stopped_by(stack, sandbox, oom_before),
            )
        if not report.graded:
            report.explained = (report.explained or "") + kit_fault_note(stack, oom_before)
        stopping = time.monotonic()
    timings["LocalStack stopped"] = time.monotonic() - stopping
    _stacks.remove(stack)
    report.solution = handed.name
    report.path = str(handed.source)
    if handed.findings is not None:
        report.problems = list(handed.findings.problems)
        report.warnings = list(handed.findings.warnings)
    return report, sandbox


def instructor_lines(run_result: ContainerRun) -> list[str]:
    """What the platform shows the instructor (standard output): the outcome, the
    sandbox, where the time went."""
    from sfnlab.grading.grading_stack import SANDBOX_MEANING

    report = run_result.report
    lines = [learner_summary(report)]
    if run_result.sandbox or report.graded:
        lines.append(f"Sandbox: {SANDBOX_MEANING.get(run_result.sandbox, run_result.sandbox)}.")
    if report.explained:
        lines.append(report.explained)
    seconds = {name: round(value, 2) for name, value in run_result.timings.items()}
    lines.append("sfnlab timings: " + json.dumps(seconds))
    lines.append(f"Results: {run_result.results_path}")
    return lines
