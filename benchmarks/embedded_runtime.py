"""Measure the embedded runtime and the exercise on it.

Install and LocalStack start-up, Lambda invoke latency (cold, warm, and the floor) of a
Python function and, when Node.js 20+ is on PATH, of a Node.js one, then
the exercise: start -> token visible, approve -> SUCCEEDED, and the whole
`scripts/run_exercise.sh`, warm and cold (grading: `benchmarks/grading.py`). Run it
from the kit's environment:

    .sfnlab/venv/bin/python benchmarks/embedded_runtime.py [--runs 20] [--skip-install]
        [--only runtime|invokes|exercise]

It prints each figure beside its target. Everything it starts runs on its own port with
its own state folder, and is stopped before it ends.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from localstack_process_executor import node_finder
from sfnlab.deploy.functions import wait_until_ready
from sfnlab.deploy.resources import deploy
from sfnlab.inbox import InboxClient
from sfnlab.lab import lifecycle
from sfnlab.localstack.install import (
    find_runtime_python,
    install_runtime_env,
    recorded_install,
)
from sfnlab.settings import PROJECT_ROOT, load_settings
from sfnlab.support.aws import client
from sfnlab.support.polling import poll
from sfnlab.testing.functions import zip_files
from sfnlab.testing.settings import settings_for
from sfnlab.workflow import approval, executions

# A handler like the exercise's: standard library only, an HTTP client imported.
HANDLER = """\
import os
import shutil
import urllib.request


def handler(event, context):
    return {"received": event, "region": os.environ.get("AWS_REGION")}
"""
FLOOR = (
    "import sys; sys.path.insert(0, {folder!r}); import lambda_function; "
    "lambda_function.handler({{'n': 1}}, None)"
)
# The same in JavaScript, and its floor: a bare `node` that loads the handler and calls it.
NODE_HANDLER = """\
const https = require('node:https');
const os = require('node:os');

exports.handler = async (event) => ({ received: event, region: process.env.AWS_REGION });
"""
NODE_FLOOR = "require({path}).handler({{ n: 1 }});"


@dataclass(frozen=True)
class Subject:
    """A function measured: its runtime and code, and the command of its floor."""

    language: str
    runtime: str
    files: dict[str, str]
    handler: str
    floor: Callable[[Path], list[str]]


def subjects(settings) -> list[Subject]:
    """The Python function, and the Node.js one when a Node.js 20+ is on PATH."""
    interpreter, _ = recorded_install(settings.runtime_venv)
    found = [
        # LocalStack's own interpreter runs the function, and the floor.
        Subject(
            "python",
            f"python{interpreter.version_text}",
            {"lambda_function.py": HANDLER},
            "lambda_function.handler",
            lambda code: [interpreter.path, "-c", FLOOR.format(folder=str(code))],
        )
    ]
    node = shutil.which("node")
    version = node_finder.probe(node) if node else None
    if node and version and version[0] >= node_finder.MINIMUM_NODE:
        found.append(
            Subject(
                "nodejs",
                f"nodejs{version[0]}.x",
                {"index.js": NODE_HANDLER},
                "index.handler",
                lambda code: [
                    node,
                    "-e",
                    NODE_FLOOR.format(path=json.dumps(str(code / "index.js"))),
                ],
            )
        )
    return found


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def row(name: str, value: str, target: str = "", ok: bool | None = None) -> None:
    mark = "" if ok is None else ("  ok" if ok else "  MISSED")
    print(f"{name:<48} {value:>24}   {target}{mark}")


def measure_install() -> float:
    """First use: a new virtualenv for the embedded LocalStack, with an empty uv cache."""
    with tempfile.TemporaryDirectory() as home:
        settings = replace(load_settings(), home=Path(home))
        interpreter = find_runtime_python(settings)
        environ = dict(os.environ, UV_CACHE_DIR=str(Path(home) / "uv-cache"))
        previous = os.environ.copy()
        os.environ.update(environ)
        try:
            return timed(lambda: install_runtime_env(settings, interpreter)) / 1000
        finally:
            os.environ.clear()
            os.environ.update(previous)


def measure_startup(state: Path, runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        settings = settings_for(state)
        seconds.append(timed(lambda settings=settings: lifecycle.up(settings)) / 1000)
        lifecycle.down(settings)
    return seconds


def measure_invokes(runs: int, workdir: Path, spares: bool) -> dict[str, dict[str, list[float]]]:
    """Cold and warm invoke latency of a function of each language, and the floor on the
    same interpreter, on one LocalStack: {language: {"cold", "warm", "floor"}}.

    The languages take turns, sample by sample, so that a busy moment of the machine
    weighs on each alike."""
    settings = settings_for(workdir / f"state-spares-{spares}")
    previous = os.environ.get("PROCESS_EXECUTOR_SPARES")
    os.environ["PROCESS_EXECUTOR_SPARES"] = "1" if spares else "0"
    try:
        lifecycle.up(settings)
    finally:
        os.environ.pop("PROCESS_EXECUTOR_SPARES")
        if previous is not None:
            os.environ["PROCESS_EXECUTOR_SPARES"] = previous
    try:
        measured = [
            Measured(settings, subject, workdir / f"{spares}") for subject in subjects(settings)
        ]
        for run in range(runs):
            for one in measured:
                one.retire(run)
                time.sleep(0.3)  # some time between cold starts, as in real use
                one.figures["cold"].append(timed(one.invoke))
        for _ in range(runs):
            for one in measured:
                one.figures["warm"].append(timed(one.invoke))
        for _ in range(runs):
            for one in measured:
                one.figures["floor"].append(timed(one.floor))
        return {one.subject.language: one.figures for one in measured}
    finally:
        lifecycle.down(settings)


class Measured:
    """A subject's function, created and invoked once (which also warms LocalStack)."""

    def __init__(self, settings, subject: Subject, workdir: Path) -> None:
        self.subject = subject
        self.lam = client("lambda", settings)
        self.name = f"bench-{subject.language}"
        self.figures: dict[str, list[float]] = {"cold": [], "warm": [], "floor": []}
        self.lam.create_function(
            FunctionName=self.name,
            Runtime=subject.runtime,
            Role="arn:aws:iam::000000000000:role/bench",
            Handler=subject.handler,
            Code={"ZipFile": zip_files(subject.files)},
        )
        wait_until_ready(self.lam, self.name, timeout=300)  # Node.js: SDK installed first
        self.invoke()
        code = workdir / subject.language
        code.mkdir(parents=True)
        for file_name, source in subject.files.items():
            (code / file_name).write_text(source)
        self.floor_command = subject.floor(code)

    def invoke(self) -> None:
        response = self.lam.invoke(FunctionName=self.name, Payload=b'{"n": 1}')
        assert "FunctionError" not in response, response["Payload"].read()
        response["Payload"].read()

    def retire(self, run: int) -> None:
        """A configuration change retires the environment: the next invoke is cold."""
        self.lam.update_function_configuration(
            FunctionName=self.name, Environment={"Variables": {"RUN": str(run)}}
        )
        wait_until_ready(self.lam, self.name)

    def floor(self) -> None:
        subprocess.run(self.floor_command, check=True)


def wait_until(condition: Callable[[], object], timeout: float = 30.0) -> object:
    """The kit's poll, capped at 50 ms between calls so that polling adds no load."""
    result = poll(condition, timeout, max_delay=0.05)
    if not result:
        raise TimeoutError("condition not met")
    return result


def measure_exercise(runs: int, workdir: Path) -> dict[str, list[float]]:
    """start -> token visible, approve -> SUCCEEDED, whole run_exercise.sh warm and cold.

    The two latencies are read off the system's own clocks (when the inbox stored the
    notification, when Step Functions stopped the execution), so that polling for them
    neither adds to them nor loads the machine while they are measured.
    """
    settings = settings_for(workdir / "exercise-state")
    lifecycle.up(settings)
    try:
        deploy(settings)
        redeploy = [timed(lambda: deploy(settings)) for _ in range(5)]
        sfn = client("stepfunctions", settings)

        def review_of(name: str):
            return next(
                (r for r in approval.review_requests(settings) if r.execution == name), None
            )

        token_visible, approved = [], []
        for run in range(runs + 1):  # the first run warms every function up
            started_at = time.time()
            started = executions.start(settings)
            review = wait_until(lambda started=started: review_of(started.name))
            stored = InboxClient(settings.inbox_url).requests(channel="reviewers", limit=1)[0]
            visible_at = datetime.fromisoformat(stored.received_at).timestamp()
            approving_at = time.time()
            approval.decide(settings, True, token=review.token)
            ended = wait_until(
                lambda started=started: (
                    (info := sfn.describe_execution(executionArn=started.arn))["status"]
                    == "SUCCEEDED"
                    and info
                )
            )
            if run:
                token_visible.append((visible_at - started_at) * 1000)
                approved.append((ended["stopDate"].timestamp() - approving_at) * 1000)
        script = [str(PROJECT_ROOT / "scripts" / "run_exercise.sh")]
        warm = [timed(lambda: run_script(script, settings)) / 1000 for _ in range(3)]
    finally:
        lifecycle.down(settings)
    cold_settings = settings_for(workdir / "exercise-cold-state")
    try:
        cold = [timed(lambda: run_script(script, cold_settings)) / 1000]
    finally:
        lifecycle.down(cold_settings)
    return {
        "token": token_visible,
        "approve": approved,
        "redeploy": redeploy,
        "script_warm": warm,
        "script_cold": cold,
    }


def run_script(command: list[str], settings) -> None:
    environment = {
        **os.environ,
        "SFNLAB_ENDPOINT": settings.endpoint,
        "SFNLAB_INBOX_URL": settings.inbox_url,
        "SFNLAB_STATE_DIR": str(settings.state_dir),
    }
    subprocess.run(command, env=environment, check=True, capture_output=True)


def report_runtime(args: argparse.Namespace) -> None:
    if args.only == "invokes":
        with tempfile.TemporaryDirectory() as workdir:
            report_all_invokes(args, Path(workdir))
        return
    if not args.skip_install:
        install = measure_install()
        row(
            "first-use install of the embedded runtime",
            f"{install:.1f} s",
            "<= 30 s",
            install <= 30,
        )
    with tempfile.TemporaryDirectory() as workdir:
        work = Path(workdir)
        cold_starts = [measure_startup(work / f"cold-{i}", 1)[0] for i in range(args.startups)]
        warm_state = work / "warm"
        measure_startup(warm_state, 1)
        warm_median = statistics.median(measure_startup(warm_state, args.startups))
        row(
            "LocalStack start-up, cold (empty state)",
            f"median {statistics.median(cold_starts):.2f} s",
        )
        row("LocalStack start-up, warm", f"median {warm_median:.2f} s", "<= 5 s", warm_median <= 5)
        report_all_invokes(args, work)


def report_all_invokes(args: argparse.Namespace, work: Path) -> None:
    figures = measure_invokes(args.runs, work, spares=True)
    on_demand = measure_invokes(args.runs, work, spares=False)
    report_invokes(figures["python"], on_demand["python"], "python -c", "Lambda", 2, 20)
    if "nodejs" in figures:
        report_invokes(figures["nodejs"], on_demand["nodejs"], "node -e", "Node.js Lambda", 1.2, 15)
    else:
        row("Node.js invokes", "not measured: no Node.js 20+ on PATH")


def report_invokes(
    figures: dict, on_demand: dict, floor_name: str, label: str, cold_factor: float, warm_ms: float
) -> None:
    floor50, floor95 = percentiles(figures["floor"])
    cold50, cold95 = percentiles(figures["cold"])
    demand50, demand95 = percentiles(on_demand["cold"])
    warm50, warm95 = percentiles(figures["warm"])
    row(
        f"floor: {floor_name} importing + calling handler",
        f"p50 {floor50:.1f} / p95 {floor95:.1f} ms",
    )
    row(
        f"{label} invoke, cold (default: spare process)",
        f"p50 {cold50:.1f} / p95 {cold95:.1f} ms",
        f"p50 <= {cold_factor:g}x floor ({cold_factor * floor50:.0f} ms)",
        cold50 <= cold_factor * floor50,
    )
    row(
        f"{label} invoke, cold (PROCESS_EXECUTOR_SPARES=0)",
        f"p50 {demand50:.1f} / p95 {demand95:.1f} ms",
    )
    row(
        f"{label} invoke, warm",
        f"p50 {warm50:.1f} / p95 {warm95:.1f} ms",
        f"p50 <= {warm_ms:g} ms",
        warm50 <= warm_ms,
    )


def report_exercise(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        exercise = measure_exercise(args.runs, Path(workdir))
    token50, token95 = percentiles(exercise["token"])
    approve50, approve95 = percentiles(exercise["approve"])
    warm_script = statistics.median(exercise["script_warm"])
    redeploy = statistics.median(exercise["redeploy"])
    row(
        "deploy again, nothing changed",
        f"median {redeploy:.0f} ms",
        "well under 1 s",
        redeploy < 1000,
    )
    row(
        "start -> token visible in the inbox, warm",
        f"p50 {token50:.0f} / p95 {token95:.0f} ms",
        "p50 <= 500 ms",
        token50 <= 500,
    )
    row(
        "approve -> SUCCEEDED, warm",
        f"p50 {approve50:.0f} / p95 {approve95:.0f} ms",
        "p50 <= 500 ms",
        approve50 <= 500,
    )
    row(
        "scripts/run_exercise.sh, warm", f"median {warm_script:.1f} s", "<= 10 s", warm_script <= 10
    )
    row("scripts/run_exercise.sh, cold (fresh state)", f"{exercise['script_cold'][0]:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="samples per latency figure")
    parser.add_argument("--startups", type=int, default=3, help="samples per start-up figure")
    parser.add_argument("--skip-install", action="store_true", help="skip the install figure")
    parser.add_argument(
        "--only",
        choices=["runtime", "invokes", "exercise"],
        help="measure one part only (invokes: the runtime's invoke figures alone)",
    )
    args = parser.parse_args()
    print(f"{'measure':<48} {'value':>24}   target")
    if args.only in (None, "runtime", "invokes"):
        report_runtime(args)
    if args.only in (None, "exercise"):
        report_exercise(args)
    print(f"({args.runs} samples per latency figure)")


if __name__ == "__main__":
    main()
