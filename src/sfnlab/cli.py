"""The `sfnlab` command: thin wrappers over the library functions of the same names."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from sfnlab import approval, lifecycle, solve_issue
from sfnlab import execution as executions
from sfnlab.config import PROJECT_ROOT, load_settings
from sfnlab.deploy import deploy
from sfnlab.errors import KitError, kit_error
from sfnlab.exercise import ExerciseResult, run_exercise
from sfnlab.progress import console, step
from sfnlab.solve_issue import DEFAULT_REVIEW_HEARTBEAT, DEFAULT_REVIEW_TIMEOUT


def friendly_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Show the kit's errors as one paragraph and exit 1, instead of a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except Exception as e:
            friendly = kit_error(e)
            if friendly is None:
                raise
            console.print(f"[bold red]Error:[/bold red] {friendly}", markup=True, highlight=False)
            sys.exit(1)

    return wrapper


@click.group()
@click.version_option(package_name="sfn-approval-lab")
def main() -> None:
    """sfn-approval-lab: learn the Step Functions callback pattern on LocalStack.

    The endpoint comes from SFNLAB_ENDPOINT (default http://127.0.0.1:4566); the kit's
    files live in .sfnlab/ inside the project.
    """


@main.command()
@friendly_errors
def up() -> None:
    """Make sure LocalStack runs: use the one at the endpoint, or start the embedded one.

    The embedded LocalStack needs Python 3.12 or newer; its virtualenv is created on
    first use. Running `up` again while it runs changes nothing.
    """
    result = lifecycle.up()
    click.echo(result.describe())


@main.command()
@friendly_errors
def down() -> None:
    """Stop the embedded LocalStack and every Lambda process it started."""
    click.echo(lifecycle.down().message)


@main.command()
@click.argument("execution", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@friendly_errors
def status(execution: str | None, as_json: bool) -> None:
    """Show LocalStack's status, or with EXECUTION (a name or ARN) that execution's.

    For an execution: its status and the path it took, state by state.
    """
    if execution:
        show_execution(executions.describe(None, execution), as_json)
        return
    result = lifecycle.status()
    if as_json:
        fields = {k: None if v is None else str(v) for k, v in vars(result).items()}
        click.echo(json.dumps(fields))
        return
    table = Table(show_header=False, box=None)
    table.add_row("endpoint", result.endpoint)
    table.add_row("running", "yes" if result.running else "no")
    if result.running:
        table.add_row("version", result.version or "")
        table.add_row("mode", result.mode or "")
        table.add_row("lambda executor", result.lambda_executor or "")
        if result.pid:
            table.add_row("pid", str(result.pid))
        if result.log_file:
            table.add_row("log", str(result.log_file))
    table.add_row("inbox", f"{result.inbox_url}/ ({'up' if result.inbox_running else 'down'})")
    console.print(table)
    if not result.running:
        sys.exit(3)
    show_latest_executions()


def show_latest_executions() -> None:
    try:
        latest = executions.latest()
    except KitError:
        return  # nothing deployed yet: nothing to list
    if latest:
        table = Table("latest executions", "status", "started", box=None)
        for found in latest:
            table.add_row(found["name"], found["status"], f"{found['startDate']:%H:%M:%S}")
        console.print(table)


def show_execution(found: executions.Execution, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(found), indent=2, default=str))
        return
    click.echo(f"{found.name}: {found.status}")
    for state in found.path:
        click.echo(f"  {state.name:<18} {state.type:<8} {state.outcome}")
    if found.error:
        click.echo(f"error: {found.error}: {found.cause or ''}")


@main.command()
@click.option("-n", "--lines", default=50, show_default=True, help="How many lines to show.")
@friendly_errors
def logs(lines: int) -> None:
    """Show the end of the embedded LocalStack's log."""
    click.echo(lifecycle.logs(lines=lines))


@main.command(name="deploy")
@click.option(
    "--source",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=PROJECT_ROOT,
    show_default="the kit itself",
    help="A folder laid out like the kit (definitions/, lambdas/): a solution to deploy.",
)
@click.option(
    "--definition",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Another definition of SolveIssue to deploy, e.g. "
    "definitions/SolveIssueStepFunctionJSONata.json (default: the source's JSONPath one).",
)
@click.option(
    "--review-timeout",
    default=DEFAULT_REVIEW_TIMEOUT,
    show_default=True,
    help="Seconds the review may take before the execution fails.",
)
@click.option(
    "--review-heartbeat",
    default=DEFAULT_REVIEW_HEARTBEAT,
    show_default=True,
    help="Seconds between heartbeats a review needs (0: none).",
)
@click.option("--aws-account", help="With SFNLAB_TARGET=aws: the account you mean to change.")
@click.option(
    "--stack",
    is_flag=True,
    help="Deploy through template.yaml instead: a CloudFormation stack (LocalStack only).",
)
@click.option("--stack-name", default=solve_issue.STACK_NAME, show_default=True)
@click.option(
    "--build-only",
    is_flag=True,
    help="With --stack: only write the template and what it names to .sfnlab/stack/, "
    "for `sam deploy` on AWS.",
)
@friendly_errors
def deploy_command(
    source: Path,
    definition: Path | None,
    review_timeout: int,
    review_heartbeat: int,
    aws_account: str | None,
    stack: bool,
    stack_name: str,
    build_only: bool,
) -> None:
    """Create or update the roles, the Lambdas and the SolveIssue state machine.

    Safe to run again: what already matches is left alone, and it prints what it
    created, updated or left unchanged. With --stack, CloudFormation does it from
    template.yaml, the same exercise as an AWS SAM template.
    """
    if stack or build_only:
        from sfnlab.stack_command import deploy_stack_command

        deploy_stack_command(source, stack_name, review_timeout, review_heartbeat, build_only)
        return
    result = deploy(
        source=source,
        definition=definition,
        review_timeout=review_timeout,
        review_heartbeat=review_heartbeat or None,
        confirm_account=aws_account,
    )
    table = Table("resource", "name", "done", box=None)
    for change in result.changes:
        table.add_row(change.kind, change.name, change.action)
    console.print(table)
    click.echo(f"{len(result.changed)} changed. State machine: {result.state_machine_arn}")


@main.command()
@click.option(
    "--event",
    "event_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=solve_issue.INITIAL_EVENT,
    show_default="test-events/initialEventTest.json",
    help="The execution's input.",
)
@click.option("--name", help="The execution's name (default: solve-<time>-<random>).")
@friendly_errors
def start(event_file: Path, name: str | None) -> None:
    """Start a SolveIssue execution; it stops at the reviewers' step."""
    started = executions.start(event_file=event_file, name=name)
    click.echo(f"Started {started.name}")
    click.echo(started.arn)


@main.command()
@click.option("--execution", help="The execution's name (default: the newest one waiting).")
@click.option("--wait", is_flag=True, help="Wait until a notification arrives.")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds to wait, with --wait.")
@friendly_errors
def token(execution: str | None, wait: bool, timeout: float) -> None:
    """Print the task token the reviewers got, from the inbox."""
    review = approval.find_review(None, execution, wait=wait, timeout=timeout)
    console.print(f"execution {review.execution}, branch {review.branch}")
    click.echo(review.token)


def decision_command(approve: bool):
    verb = "approve" if approve else "reject"

    @click.option("--token", "token_value", help="The task token (default: from the inbox).")
    @click.option("--execution", help="Decide for this execution (default: newest waiting).")
    @click.option("--reviewer", help="Who decides (default: from the test event).")
    @click.option("--comment", help="Why (default: from the test event).")
    @friendly_errors
    def command(
        token_value: str | None, execution: str | None, reviewer: str | None, comment: str | None
    ) -> None:
        decision = approval.decide(
            None,
            approve,
            token=token_value,
            execution=execution,
            reviewer=reviewer,
            comment=comment,
        )
        click.echo(decision.summary)

    command.__doc__ = (
        f"{verb.capitalize()} the review: invoke the approve Lambda with "
        f"test-events/{verb}TaskTest.json and the task token."
    )
    return main.command(name=verb)(command)


approve = decision_command(True)
reject = decision_command(False)


@main.command()
@click.option("--reject", "reject_review", is_flag=True, help="Reject the review instead.")
@friendly_errors
def exercise(reject_review: bool) -> None:
    """Run the whole exercise: up, deploy, start, token, approve (or reject), end.

    Exits 0 when the execution ends as the chosen path expects.
    """
    result = run_exercise(approve=not reject_review)
    report_exercise(result)
    sys.exit(0 if result.as_expected else 1)


def report_exercise(result: ExerciseResult) -> None:
    """The outcome, both messages and the states visited, on standard output."""
    out = Console(highlight=False)
    found = result.execution
    out.rule("Outcome")
    out.print(f"Execution {found.name}: {found.status}")
    if found.error:
        out.print(f"  {found.error}: {found.cause}", markup=False)
    out.rule("What the reviewers got (inbox channel: reviewers)")
    out.print_json(data=result.reviewers_message)
    out.rule("What Ops got (inbox channel: ops)")
    if result.ops_message:
        out.print_json(data=result.ops_message)
    else:
        out.print("(nothing: the release was never made)")
    out.rule("The workflow, as this execution went")
    from sfnlab.execution_graph import graph as draw_graph

    picture = draw_graph(None, found.arn)
    show_graph(picture)
    saved = picture.save(load_settings().state_dir / "graphs" / f"{found.name}.html")
    out.print(f"Open {saved} in a browser to see it drawn.")
    path = "approve" if result.approve else "reject"
    verdict = "as expected" if result.as_expected else f"NOT as expected ({result.expected_status})"
    out.print(f"\nThe {path} path ended {verdict}.")


@main.command(name="grade")
@click.argument(
    "solutions",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("grading-reports"),
    show_default=True,
    help="Where the JSON, JUnit XML and class summary (CSV, Markdown) go.",
)
@click.option("--jobs", default=4, show_default=True, help="Solutions graded at the same time.")
@click.option(
    "--time-limit",
    default=90.0,
    show_default=True,
    help="Seconds each solution may take, from deploy to clean-up.",
)
@click.option(
    "--no-sandbox",
    is_flag=True,
    help="Run the learners' Lambdas without bubblewrap, as you (only for code you trust).",
)
@friendly_errors
def grade_command(
    solutions: tuple[Path, ...], report_dir: Path, jobs: int, time_limit: float, no_sandbox: bool
) -> None:
    """Grade learners' solutions: each folder laid out like the kit (definitions/, lambdas/).

    Grading starts a LocalStack of its own (yours is never touched) whose Lambdas run
    inside bubblewrap. Each solution is deployed into a fresh account, run through the
    approve path, the reject path and each step on its own, judged requirement by
    requirement, and removed again. Exits 0 when every solution meets every requirement,
    1 when points are missing, 2 when the kit failed to grade a solution (run it again).
    """
    from sfnlab.grading import grade
    from sfnlab.grading.reports import print_report, summary_markdown, write_reports
    from sfnlab.grading.stack import grading_stack

    out = Console(highlight=False)
    with (
        grading_stack(sandbox=not no_sandbox) as settings,
        step(f"Grading {len(solutions)} solution(s), {jobs} at a time"),
    ):
        reports = grade(list(solutions), settings, jobs=jobs, time_limit=time_limit)
    for report in reports:
        print_report(report, out)
    if len(reports) > 1:
        click.echo(summary_markdown(reports))
    written = write_reports(reports, report_dir)
    out.print(f"Reports: {', '.join(str(path) for path in written[-3:])} and one JSON each.")
    failed = [report.solution for report in reports if not report.graded]
    if failed:
        out.print(
            f"Could not grade {', '.join(failed)}: the kit failed, not the learner "
            "(see above). Run `sfnlab grade` again for them.",
            style="red",
        )
        sys.exit(2)
    sys.exit(0 if all(r.score == r.total for r in reports) else 1)


@main.command()
@click.argument("execution", required=False)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the picture to this file (.svg or .html).",
)
@click.option("--machine", default=solve_issue.STATE_MACHINE_NAME, show_default=True)
@friendly_errors
def graph(execution: str | None, output: Path | None, machine: str) -> None:
    """Draw the workflow: each state marked by what happened in EXECUTION (default: latest).

    In the terminal as text; with --output as an SVG or HTML file to open in a browser.
    """
    from sfnlab.execution_graph import graph as draw_graph

    picture = draw_graph(None, execution, machine)
    show_graph(picture)
    if output:
        click.echo(f"Saved {picture.save(output)}")


STATUS_COLOURS = {"succeeded": "green", "failed": "red", "caught": "yellow", "waiting": "blue"}


def show_graph(picture) -> None:
    out = Console(highlight=False)
    out.print(picture.title, style="bold")
    for status, line in picture.lines():
        out.print(line, style=STATUS_COLOURS.get(status, "dim"), markup=False, soft_wrap=True)


@main.command()
@click.option("--ip", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8888, show_default=True)
@click.option("--no-browser", is_flag=True, help="Do not open a browser.")
def notebook(ip: str, port: int, no_browser: bool) -> None:
    """Start JupyterLab on the guided notebooks (notebooks/), from the kit's environment."""
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.ip={ip}",
        f"--ServerApp.port={port}",
        f"--ServerApp.root_dir={PROJECT_ROOT / 'notebooks'}",
    ]
    if no_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # in a container, say
    os.execv(sys.executable, command)


@main.command()
@friendly_errors
def smoke() -> None:
    """Deploy a hello-world Lambda and invoke it: proves LocalStack runs Lambdas."""
    from sfnlab.smoke import smoke as run_smoke

    result = run_smoke()
    click.echo(json.dumps(result.payload, indent=2))
    click.echo(result.log_tail)
    click.echo(f"Invoked in {result.invoke_ms:.0f} ms.")
