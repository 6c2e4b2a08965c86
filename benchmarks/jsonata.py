"""Measure JSONata on the embedded runtime: one evaluation, and a workflow in both languages.

1. One evaluation in-process (jsonata-python, as the kit's LocalStack patch runs it), on
   the embedded runtime's interpreter, with the `$states` of a SolveIssue step.
2. The same workflow written in JSONPath and in JSONata, on a fresh embedded LocalStack:
   a chain of Pass states that reshape the payload (evaluation only), and SolveIssue
   itself, approved as soon as the reviewers' token is in the inbox. An execution's time
   is Step Functions' own (startDate to stopDate).

    .sfnlab/venv/bin/python benchmarks/jsonata.py [--runs 20]

It prints each figure beside its target. The LocalStack it starts runs on its own port
with its own state folder, and is stopped before it ends.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import uuid
from pathlib import Path

from sfnlab.deploy.resources import deploy
from sfnlab.exercise import INITIAL_EVENT, STATE_MACHINE_NAME
from sfnlab.lab import lifecycle
from sfnlab.localstack.install import ensure_runtime_env
from sfnlab.settings import PROJECT_ROOT, load_settings
from sfnlab.support.aws import client
from sfnlab.support.polling import poll
from sfnlab.testing.settings import settings_for
from sfnlab.workflow import approval, executions

JSONATA_FILE = PROJECT_ROOT / "definitions" / "SolveIssueStepFunctionJSONata.json"
JSONATA_MACHINE = "SolveIssueJSONataBenchmark"
PASS_STATES = 10
LANGUAGES = ("JSONPath", "JSONata")

# Runs on the embedded runtime's Python, where jsonata-python and the patch are installed.
EVALUATIONS = r"""
import json, statistics, sys, time
from localstack_sfnlab_patches.jsonata_engine import evaluate

payload = json.loads(sys.argv[1])
runs = int(sys.argv[2])
states = {
    "input": payload,
    "context": {"Execution": {"Name": "solve-1", "Input": payload}, "Task": {"Token": "t" * 36}},
    "result": {"Payload": {**payload, "merge": {"branch": "feature/x", "into": "master"}}},
}
expressions = {
    "path": "$states.input.issue.title",
    "object": "{'taskToken': $states.context.Task.Token, 'input': $states.input}",
    "merge": "$merge([$states.input, {'review': $states.result.Payload}])",
    "hash": "$hash($states.input.issue.title, 'SHA-256')",
}
for name, expression in expressions.items():
    for _ in range(50):
        evaluate(expression, {"states": states})
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        evaluate(expression, {"states": states})
        samples.append((time.perf_counter() - started) * 1e6)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    print(json.dumps([name, expression, statistics.median(samples), p95]))
"""


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[
        min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))
    ]


def row(name: str, value: str, target: str = "", ok: bool | None = None) -> None:
    mark = "" if ok is None else ("  ok" if ok else "  MISSED")
    print(f"{name:<52} {value:>22}   {target}{mark}")


def report_evaluations(runs: int) -> None:
    python = ensure_runtime_env(load_settings())
    payload = json.loads(INITIAL_EVENT.read_text())
    output = subprocess.run(
        [str(python), "-c", EVALUATIONS, json.dumps(payload), str(runs)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for line in output.splitlines():
        name, _, p50, p95 = json.loads(line)
        row(
            f"one JSONata evaluation: {name}",
            f"p50 {p50:.0f} / p95 {p95:.0f} µs",
            "p50 <= 1000 µs",
            p50 <= 1000,
        )


def pass_chain(language: str) -> dict:
    """PASS_STATES Pass states, each building the same object from its input."""
    if language == "JSONPath":
        step = {
            "Type": "Pass",
            "Parameters": {
                "issue.$": "$.issue",
                "repository.$": "$.repository",
                "title.$": "$.issue.title",
                "execution.$": "$$.Execution.Name",
            },
        }
    else:
        step = {
            "Type": "Pass",
            "Output": {
                "issue": "{% $states.input.issue %}",
                "repository": "{% $states.input.repository %}",
                "title": "{% $states.input.issue.title %}",
                "execution": "{% $states.context.Execution.Name %}",
            },
        }
    names = [f"Step{n}" for n in range(PASS_STATES)]
    states = {
        name: {**step, **({"Next": names[n + 1]} if n + 1 < len(names) else {"End": True})}
        for n, name in enumerate(names)
    }
    definition = {"StartAt": names[0], "States": states}
    if language == "JSONata":
        definition["QueryLanguage"] = "JSONata"
    return definition


def duration_ms(sfn, arn: str) -> float:
    described = poll(
        lambda: (d := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and d,
        60,
        0.05,
    )
    if not described or described["status"] != "SUCCEEDED":
        raise RuntimeError(f"{arn} did not succeed: {described}")
    return (described["stopDate"] - described["startDate"]).total_seconds() * 1000


def solve_issue_ms(settings, sfn, machine: str) -> float:
    started = executions.start(settings, machine=machine)
    review = approval.find_review(settings, started.name, wait=True, timeout=30)
    approval.decide(settings, True, token=review.token)
    return duration_ms(sfn, started.arn)


def report_executions(runs: int) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        settings = settings_for(Path(workdir) / "jsonata-state")
        lifecycle.up(settings)
        try:
            deploy(settings)
            deploy(settings, definition=JSONATA_FILE, state_machine_name=JSONATA_MACHINE)
            sfn = client("stepfunctions", settings)
            role = "arn:aws:iam::000000000000:role/sfnlab-benchmark"
            payload = json.dumps(json.loads(INITIAL_EVENT.read_text()))
            machines = {
                language: sfn.create_state_machine(
                    name=f"chain-{language}-{uuid.uuid4().hex[:6]}",
                    definition=json.dumps(pass_chain(language)),
                    roleArn=role,
                )["stateMachineArn"]
                for language in LANGUAGES
            }
            solve_machines = {"JSONPath": STATE_MACHINE_NAME, "JSONata": JSONATA_MACHINE}
            chain_samples = {language: [] for language in LANGUAGES}
            solve_samples = {language: [] for language in LANGUAGES}
            # The two languages take turns, so that load from elsewhere falls on both alike.
            for run in range(runs + 1):  # the first round warms up
                for language in LANGUAGES:
                    started = sfn.start_execution(stateMachineArn=machines[language], input=payload)
                    chain = duration_ms(sfn, started["executionArn"])
                    solve = solve_issue_ms(settings, sfn, solve_machines[language])
                    if run:
                        chain_samples[language].append(chain)
                        solve_samples[language].append(solve)
            chains = {language: percentiles(chain_samples[language]) for language in LANGUAGES}
            solve = {language: percentiles(solve_samples[language]) for language in LANGUAGES}
        finally:
            lifecycle.down(settings)
    for language, (p50, p95) in chains.items():
        row(
            f"{PASS_STATES} Pass states reshaping the input, {language}",
            f"p50 {p50:.0f} / p95 {p95:.0f} ms",
        )
    overhead = (chains["JSONata"][0] - chains["JSONPath"][0]) / PASS_STATES
    row("  JSONata minus JSONPath, per state", f"{overhead:+.1f} ms", "<= 5 ms", overhead <= 5)
    for language, (p50, p95) in solve.items():
        row(f"SolveIssue approve path, {language}", f"p50 {p50:.0f} / p95 {p95:.0f} ms")
    ratio = solve["JSONata"][0] / solve["JSONPath"][0]
    row("  JSONata / JSONPath", f"{ratio:.2f}x", "<= 1.10x", ratio <= 1.10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="samples per execution figure")
    parser.add_argument("--evaluations", type=int, default=2000, help="samples per evaluation")
    args = parser.parse_args()
    print(f"{'measure':<52} {'value':>22}   target")
    report_evaluations(args.evaluations)
    report_executions(args.runs)
    print(f"({args.runs} executions, {args.evaluations} evaluations per figure)")


if __name__ == "__main__":
    main()
