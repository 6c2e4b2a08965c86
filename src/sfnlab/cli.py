"""The `sfnlab` command: thin wrappers over the library functions of the same names.

Each command is one call into the library with the settings loaded once (click's context
object); its result goes to standard output, progress and notes to standard error. The
kit's errors are turned into one paragraph and the exit status their class carries in one
place, `KitGroup.invoke`. Only click is imported at start: `sfnlab --help` stays quick,
and each command imports what it uses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from sfnlab.errors import exit_statuses
from sfnlab.exercise import (
    DEFAULT_REVIEW_HEARTBEAT,
    DEFAULT_REVIEW_TIMEOUT,
    INITIAL_EVENT,
    LANGUAGES,
    MAX_REVIEW_SECONDS,
    PYTHON,
    STACK_NAME,
    STATE_MACHINE_NAME,
    TWO_REVIEWERS_FILE,
    TWO_REVIEWERS_MACHINE,
)
from sfnlab.settings import DEFAULT_GRADING_JOBS, PROJECT_ROOT, Settings, load_settings

# Spelled out rather than imported: importing anything of sfnlab.grading loads boto3
# (tests/unit/test_cli.py checks that these match the platforms' modules).
PLATFORM_FORMATS = ("gradescope", "prairielearn")
VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")

EXIT_CODES = (
    "Exit status: " + "; ".join(f"{status} {meaning}" for status, meaning in exit_statuses()) + "."
)


def language_option(what: str):
    """`--language`: which of the kit's own Lambdas, Python's or JavaScript's."""
    return click.option(
        "--language",
        type=click.Choice(list(LANGUAGES)),
        default=PYTHON.name,
        show_default=True,
        help=f"{what}: "
        + ", ".join(f"{language.name} ({language.kit_folder}/)" for language in LANGUAGES.values())
        + ".",
    )


class KitFailure(click.ClickException):
    """A LearnerError on its way out: click prints `Error: <message>` on stderr and exits."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class KitGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:
            from sfnlab.explain import explained

            settings = ctx.obj if isinstance(ctx.obj, Settings) else None
            friendly = explained(error, settings)
            if friendly is None:
                raise  # the kit's own bug: the traceback is what helps
            raise KitFailure(str(friendly), friendly.exit_code) from None


pass_settings = click.make_pass_decorator(Settings)


@click.group(cls=KitGroup, epilog=EXIT_CODES)
@click.version_option(package_name="sfn-approval-lab")
@click.pass_context
def main(ctx: click.Context) -> None:
    """sfn-approval-lab: learn the Step Functions callback pattern on LocalStack.

    The endpoint comes from SFNLAB_ENDPOINT (default http://127.0.0.1:4566); the kit's
    files live in .sfnlab/ inside the project.
    """
    ctx.obj = load_settings()


@main.command()
@pass_settings
def up(settings: Settings) -> None:
    """Make sure LocalStack runs: use the one at the endpoint, or start the embedded one.

    The embedded LocalStack needs Python 3.12 or newer; its virtualenv is created on
    first use. Running `up` again while it runs changes nothing. After a restart or a
    crash, it deploys again what was deployed (LocalStack forgets it).
    """
    from sfnlab.lab import lifecycle

    click.echo(lifecycle.up(settings).describe())


@main.command()
@pass_settings
def down(settings: Settings) -> None:
    """Stop the embedded LocalStack, every Lambda process it started, and the inbox."""
    from sfnlab.lab import lifecycle

    click.echo(lifecycle.down(settings).message)


@main.command()
@click.argument("execution", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.option("--cause", "full_cause", is_flag=True, help="Show a failure's whole cause.")
@click.option("--wait", is_flag=True, help="With EXECUTION: wait until it ends (up to 30 s).")
@pass_settings
@click.pass_context
def status(
    ctx: click.Context,
    settings: Settings,
    execution: str | None,
    as_json: bool,
    full_cause: bool,
    wait: bool,
) -> None:
    """Show LocalStack's status, or with EXECUTION (a name or ARN) that execution's.

    For an execution: its status, the path it took state by state, and why it failed
    (the error and its message; the whole cause with --cause). Exits 3 when LocalStack
    is not running.
    """
    if execution:
        from sfnlab.workflow import executions

        if wait:
            found = executions.wait_for_end(settings, execution)
        else:
            found = executions.describe(settings, execution)
        click.echo(as_json_text(found) if as_json else found.report(full_cause))
        return
    from sfnlab.lab import lifecycle

    result = lifecycle.status(settings)
    if as_json:
        click.echo(as_json_text(result))
    else:
        click.echo(table(result.rows()))
    if not result.running:
        ctx.exit(3)
    latest = "" if as_json else latest_executions(settings)
    if latest:
        click.echo(latest)


def deploy_stack_command(
    settings: Settings,
    source: Path,
    stack_name: str,
    review_timeout: int,
    review_heartbeat: int,
    build_only: bool,
) -> None:
    """`sfnlab deploy --stack [--build-only]`: CloudFormation deploys template.yaml."""
    from sfnlab.deploy.stack import deploy_stack
    from sfnlab.deploy.stack_build import build
    from sfnlab.support.progress import shown_path, step

    if build_only:
        template = shown_path(build(settings.home / "stack", source).resolve())
        click.echo(f"Built {template} with the code and the definition it names.")
        click.echo(f"On AWS: sam deploy --guided --template-file {template}")
        return
    with step(f"Deploying the stack {stack_name} from template.yaml"):
        result = deploy_stack(
            settings,
            source=source,
            stack_name=stack_name,
            review_timeout=review_timeout,
            review_heartbeat=review_heartbeat or None,
        )
    click.echo(
        table([("resource", "name", "done"), *((c.kind, c.name, c.action) for c in result.changes)])
    )
    click.echo(
        f"Stack {result.stack_name} {result.action}, {len(result.changed)} changed. "
        f"State machine: {result.state_machine_arn}"
    )
    click.echo(f"Approve function: {result.approve_function}")
    click.echo(
        f"What CloudFormation got: {shown_path((result.build_dir / 'packaged.json').resolve())}"
    )


def table(rows: list[tuple[str, ...]]) -> str:
    """Rows as aligned columns of plain text."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def as_json_text(value: Any) -> str:
    import dataclasses

    return json.dumps(dataclasses.asdict(value), indent=2, default=str)


def latest_executions(settings: Settings) -> str:
    from sfnlab.errors import LearnerError
    from sfnlab.workflow import executions

    try:
        latest = executions.latest(settings)
    except LearnerError:
        return ""  # nothing deployed yet: nothing to list
    rows = [(f["name"], f["status"], f"{f['startDate']:%H:%M:%S}") for f in latest]
    return "\n" + table([("latest executions", "status", "started"), *rows]) if rows else ""


@main.command()
@click.option(
    "-n",
    "--lines",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="How many lines to show.",
)
@click.option("--raw", is_flag=True, help="Exactly as LocalStack wrote them.")
@pass_settings
def logs(settings: Settings, lines: int, raw: bool) -> None:
    """Show the end of the embedded LocalStack's log.

    An execution that reaches its Fail state (a rejection) is shown as the expected
    outcome it is, not as LocalStack's 2 KB ERROR; real failures stay ERRORs.
    """
    from sfnlab.lab import lifecycle

    click.echo(lifecycle.logs(settings, lines=lines, raw=raw))


@main.command(name="deploy")
@click.option(
    "--source",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=PROJECT_ROOT,
    show_default="the kit itself",
    help="A folder laid out like the kit (definitions/, lambdas/): a solution to deploy. "
    "Each step runs in the language of its file in lambdas/: create_code.py (Python) or "
    "createCode.js (JavaScript), and so on.",
)
@language_option("The kit's own Lambdas to deploy (not with --source)")
@click.option(
    "--definition",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Another definition to deploy, e.g. definitions/SolveIssueStepFunctionJSONata.json "
    "(default: the source's JSONPath one).",
)
@click.option(
    "--machine",
    default=STATE_MACHINE_NAME,
    show_default=True,
    help="The state machine to create or update: another name deploys beside SolveIssue, "
    f"e.g. --definition {TWO_REVIEWERS_FILE} --machine {TWO_REVIEWERS_MACHINE}.",
)
@click.option(
    "--review-timeout",
    type=click.IntRange(1, MAX_REVIEW_SECONDS),
    default=DEFAULT_REVIEW_TIMEOUT,
    show_default=True,
    help="Seconds the review may take before the execution fails.",
)
@click.option(
    "--review-heartbeat",
    type=click.IntRange(0, MAX_REVIEW_SECONDS),
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
@click.option("--stack-name", default=STACK_NAME, show_default=True)
@click.option(
    "--build-only",
    is_flag=True,
    help="With --stack: only write the template and what it names (from --source) to "
    ".sfnlab/stack/, for `sam deploy` on AWS. The kit's own template.yaml needs no build.",
)
@pass_settings
def deploy_command(
    settings: Settings,
    source: Path,
    definition: Path | None,
    machine: str,
    review_timeout: int,
    review_heartbeat: int,
    aws_account: str | None,
    stack: bool,
    stack_name: str,
    build_only: bool,
    language: str,
) -> None:
    """Create or update the roles, the Lambdas and the SolveIssue state machine.

    Safe to run again: what already matches is left alone, and it prints what it
    created, updated or left unchanged. With --machine, the state machine of that name
    instead (over the same Lambdas), SolveIssue left as it is; `sfnlab up` deploys each
    again after a restart. With --language javascript, the same state machine over the
    kit's JavaScript Lambdas (Node.js 20). With --stack, CloudFormation does it from
    template.yaml, the same exercise as an AWS SAM template.
    """
    if (stack or build_only) and (machine != STATE_MACHINE_NAME or definition):
        raise click.UsageError(
            "--stack deploys template.yaml as it is: no --machine or --definition."
        )
    if (stack or build_only) and language != PYTHON.name:
        raise click.UsageError(
            "--stack deploys template.yaml, whose functions are the kit's Python ones: "
            "deploy the JavaScript Lambdas without --stack."
        )
    if language != PYTHON.name and source.resolve() != PROJECT_ROOT.resolve():
        raise click.UsageError(
            "--language picks the kit's own Lambdas; a solution given with --source says "
            "each step's language by its file in lambdas/ (createCode.js or create_code.py)."
        )
    if stack or build_only:
        deploy_stack_command(
            settings, source, stack_name, review_timeout, review_heartbeat, build_only
        )
        return
    from sfnlab.deploy import remembered
    from sfnlab.deploy.resources import deploy

    result = deploy(
        settings,
        source=source,
        definition=definition,
        state_machine_name=machine,
        review_timeout=review_timeout,
        review_heartbeat=review_heartbeat or None,
        confirm_account=aws_account,
        language=language,
    )
    remembered.remember(settings, result.request)  # `sfnlab up` deploys it again after a restart
    click.echo(
        table([("resource", "name", "done"), *((c.kind, c.name, c.action) for c in result.changes)])
    )
    click.echo(f"{len(result.changed)} changed. State machine: {result.state_machine_arn}")


@main.command()
@click.option(
    "--event",
    "event_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=INITIAL_EVENT,
    show_default="test-events/initialEventTest.json",
    help="The execution's input.",
)
@click.option("--name", help="The execution's name (default: solve-<time>-<random>).")
@click.option(
    "--machine",
    default=STATE_MACHINE_NAME,
    show_default=True,
    help=f"The state machine to start, e.g. {TWO_REVIEWERS_MACHINE} once deployed "
    "(`sfnlab deploy --help` says how).",
)
@pass_settings
def start(settings: Settings, event_file: Path, name: str | None, machine: str) -> None:
    """Start a SolveIssue execution (or one of --machine); it stops at the reviewers' step."""
    from sfnlab.workflow import executions

    started = executions.start(settings, event_file=event_file, name=name, machine=machine)
    click.echo(f"Started {started.name}")
    click.echo(started.arn)


@main.command()
@click.option("--execution", help="The execution's name (default: the newest one waiting).")
@click.option(
    "--all",
    "every_token",
    is_flag=True,
    help="Every token the execution still waits for, one line each: reviewer, the state "
    "waiting for it, the token (two, while both of two reviewers review).",
)
@click.option("--wait", is_flag=True, help="Wait until a notification arrives.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Seconds to wait, with --wait.",
)
@pass_settings
def token(
    settings: Settings, execution: str | None, every_token: bool, wait: bool, timeout: float
) -> None:
    """Print the task token the reviewers got, from the inbox: one that can still decide.

    Of an execution with two reviewers, a token already used is passed over for the one
    still waiting; --all lists both, each with its reviewer. Exits 4 when that execution
    no longer exists (LocalStack was restarted) or has ended: its token can decide nothing.
    """
    from sfnlab.support.progress import note
    from sfnlab.workflow import approval

    if every_token:
        current, found = approval.waiting_tokens(settings, execution, wait=wait, timeout=timeout)
        note(f"execution {current.name} waits for {len(found)} token(s): reviewer, state, token")
        rows = [(t.reviewer or "(not named)", t.state, t.token) for t in found]
        if rows:
            click.echo(table(rows))
        return
    chosen = approval.choose_review(settings, execution, wait=wait, timeout=timeout)
    review = chosen.review
    waiting = len(chosen.current.waiting) if chosen.current else 0
    reviewer = f", reviewer {review.reviewer}" if review.reviewer else ""
    note(f"execution {review.execution}, branch {review.branch}{reviewer}")
    if waiting > 1:
        note(f"it waits for {waiting} tokens: `sfnlab token --all` lists each with its reviewer")
    click.echo(review.token)


def decision_command(approve: bool) -> click.Command:
    verb = "approve" if approve else "reject"

    @click.option("--token", "token_value", help="The task token (default: from the inbox).")
    @click.option("--execution", help="Decide for this execution (default: newest waiting).")
    @click.option("--reviewer", help="Who decides (default: from the test event).")
    @click.option("--comment", help="Why (default: from the test event).")
    @pass_settings
    def command(
        settings: Settings,
        token_value: str | None,
        execution: str | None,
        reviewer: str | None,
        comment: str | None,
    ) -> None:
        from sfnlab.support.progress import note
        from sfnlab.workflow import approval

        decision = approval.decide(
            settings,
            approve,
            token=token_value,
            execution=execution,
            reviewer=reviewer,
            comment=comment,
        )
        for text in decision.notes:
            note(text)
        click.echo(decision.shown)

    command.__doc__ = (
        f"{verb.capitalize()} the review: invoke the approve Lambda with "
        f"test-events/{verb}TaskTest.json and the task token.\n\n"
        "With --token, the inbox is not needed. Exits 4 when the token can decide "
        "nothing any more, saying why."
    )
    return main.command(name=verb)(command)


approve = decision_command(True)
reject = decision_command(False)


@main.command()
@click.option("--reject", "reject_review", is_flag=True, help="Reject the review instead.")
@language_option("The Lambdas to run it with")
@pass_settings
@click.pass_context
def exercise(ctx: click.Context, settings: Settings, reject_review: bool, language: str) -> None:
    """Run the whole exercise: up, deploy, start, token, approve (or reject), end.

    Exits 0 when the execution ends as the chosen path expects.
    """
    from sfnlab.lab.run_exercise import run_exercise

    result = run_exercise(settings, approve=not reject_review, language=language)
    click.echo(result.report(graph_text(result.picture)))
    ctx.exit(0 if result.as_expected else 1)


@main.command(name="check")
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0, min_open=True),
    default=90.0,
    show_default=True,
    help="Seconds your solution may take, from deploy to clean-up.",
)
@pass_settings
@click.pass_context
def check_command(
    ctx: click.Context, settings: Settings, folder: Path | None, time_limit: float
) -> None:
    """Check your own solution as the grader will: each requirement, its points, and what
    was expected and seen.

    FOLDER is laid out like starter/ or starter-js/ (default: my-solution in the kit's
    folder), each step in Python or JavaScript. It runs on your LocalStack (started if it
    is not running), in accounts of its own that are emptied again, so your own deployment
    is left alone; with no sandbox, so it works on any machine the kit runs on. Exits 0 at
    full marks, 1 when points are missing.
    """
    from rich.console import Console

    from sfnlab.errors import GradingFailed, LearnerError
    from sfnlab.grading.own_work import NO_SANDBOX, check_solution
    from sfnlab.grading.reports import print_report
    from sfnlab.lab import lifecycle
    from sfnlab.support.progress import note, step

    folder = folder or settings.my_solution
    if not folder.is_dir():
        raise LearnerError(
            f"There is no solution folder {folder}.",
            hint="Copy the starter first: `cp -r starter my-solution` in the kit's folder, "
            "or `cp -r starter-js my-solution` to write it in JavaScript (notebook 05's "
            "first cells do the same).",
        )
    note(NO_SANDBOX)
    with step("Making sure LocalStack and the inbox run"):
        lifecycle.up(settings)
    with step(f"Checking {folder} as the grader will"):
        report = check_solution(settings, folder, time_limit=time_limit)
    print_report(report, Console(highlight=False))
    if not report.graded:
        raise GradingFailed(
            f"Could not check {folder}: the kit failed, not your solution (see above).",
            hint="Run `sfnlab check` again.",
        )
    ctx.exit(0 if report.score == report.total else 1)


@main.command(name="grade")
@click.argument(
    "solutions",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, path_type=Path),
)
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the JSON, JUnit XML and class summary (CSV, Markdown) go "
    "[default: .sfnlab/grading-reports].",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=DEFAULT_GRADING_JOBS,
    show_default=True,
    help="Solutions graded at the same time.",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0, min_open=True),
    default=90.0,
    show_default=True,
    help="Seconds each solution may take, from deploy to clean-up.",
)
@click.option(
    "--no-sandbox",
    is_flag=True,
    help="Run the learners' Lambdas without bubblewrap, as you (only for code you trust).",
)
@click.option(
    "--format",
    "platform",
    type=click.Choice(["reports", *PLATFORM_FORMATS]),
    default="reports",
    show_default=True,
    help="Also write each solution's results in a platform's own format: Gradescope's "
    "or PrairieLearn's results.json.",
)
@click.option(
    "--visibility",
    type=click.Choice(VISIBILITIES),
    default="visible",
    show_default=True,
    help="With --format gradescope: when learners see each requirement's feedback.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="With --format gradescope or prairielearn: the results file for one solution, "
    "or a folder [default: the report folder].",
)
@click.option(
    "--min-score",
    type=click.IntRange(min=0),
    help="Exit 0 only when every solution scores at least this many points "
    "[default: all of them, every requirement met].",
)
@click.option(
    "--container",
    is_flag=True,
    help="Grade one submission as in a throwaway container or CI job: where bubblewrap "
    "cannot build its sandbox, the container is the sandbox.",
)
@click.option(
    "--step-summary",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append each score and its feedback, as Markdown, to this file (a CI job's "
    "summary: $GITHUB_STEP_SUMMARY on GitHub Actions).",
)
@pass_settings
@click.pass_context
def grade_command(
    ctx: click.Context,
    settings: Settings,
    solutions: tuple[Path, ...],
    report_dir: Path | None,
    jobs: int,
    time_limit: float,
    no_sandbox: bool,
    platform: str,
    visibility: str,
    output: Path | None,
    min_score: int | None,
    container: bool,
    step_summary: Path | None,
) -> None:
    """Grade learners' solutions: folders laid out like the kit (definitions/, lambdas/),
    submission zips (`sfnlab submit` makes them), or a folder of either (a platform's
    "download all submissions").

    Zips are unpacked safely: a path out of the zip, a link, or a zip bomb is refused, in
    that learner's report, and the class goes on. Grading starts a LocalStack of its own
    (yours is never touched) whose Lambdas run inside bubblewrap: other people's code,
    kept away from your files (your own work needs no sandbox: `sfnlab check` runs it
    anywhere), in a network of its own where the system allows: learners' code reaches
    that LocalStack and the grader, nothing else of this machine (see
    docs/grading/sandbox.md; SFNLAB_GRADING_NETWORK). Each solution is deployed into a
    fresh account, run through the approve path, the reject path and each step on its
    own, judged requirement by requirement, and removed again. Exits 0 when every
    solution scores at least --min-score (default: every requirement met), 1 when one
    does not, 5 when the kit failed to grade a solution (run it again).
    """
    from rich.console import Console

    from sfnlab.errors import GradingFailed
    from sfnlab.grading import reports as written
    from sfnlab.grading.class_grading import grade_paths
    from sfnlab.support.progress import note, step

    out = Console(highlight=False)
    with step(f"Grading {', '.join(str(s) for s in solutions)}"):
        reports = grade_paths(
            list(solutions),
            settings,
            jobs=jobs,
            time_limit=time_limit,
            sandbox=not no_sandbox,
            container=container,
        )
    for report in reports:
        written.print_report(report, out)
        if container:
            click.echo(
                f"sfnlab score: {100 * report.score / report.total:g}% "
                f"({report.score}/{report.total} points)"
            )
    if len(reports) > 1:
        click.echo(written.summary_markdown(reports))
    folder = report_dir or settings.home / "grading-reports"
    paths = written.write_reports(reports, folder)
    if platform != "reports":
        from sfnlab.grading.platforms.results import write_platform_results

        paths += write_platform_results(
            reports, platform, output=output, folder=folder, visibility=visibility
        )
    if step_summary:
        with step_summary.open("a") as summary:
            summary.write(written.step_summary(reports))
    note(f"Reports: {', '.join(str(path) for path in paths[len(reports) :])} and one JSON each.")
    failed = [report.solution for report in reports if not report.graded]
    if failed:
        raise GradingFailed(
            f"Could not grade {', '.join(failed)}: the kit failed, not the learner (see above).",
            hint="Run `sfnlab grade` again for them.",
        )
    passed = [r.score >= (r.total if min_score is None else min_score) for r in reports]
    ctx.exit(0 if all(passed) else 1)


@main.command()
@click.argument(
    "folder",
    required=False,
    default="my-solution",
    type=click.Path(file_okay=False, path_type=Path),
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the zip [default: .sfnlab/submission.zip].",
)
@pass_settings
def submit(settings: Settings, folder: Path, output: Path | None) -> None:
    """Hand in a solution: check FOLDER as the grader will, then write it to one zip.

    FOLDER is laid out like starter/ or starter-js/ (default: my-solution). When the
    grader could not run it as it is (a file missing, a definition Step Functions would
    refuse, a link out of the folder, a file too large), nothing is written and the
    message lists what to fix. The zip holds the definition, the .py and .js files of
    lambdas/ and a manifest: the kit's version, each file's SHA-256, the time. Upload that
    one file where your instructor collects it.
    """
    from sfnlab.grading.submission import submit as hand_in
    from sfnlab.grading.submission import summary

    submitted = hand_in(folder, output or settings.home / "submission.zip")
    for line in summary(submitted):
        click.echo(line)


@main.group()
def autograder() -> None:
    """Grade where instructors already grade: what Gradescope, PrairieLearn and CI need.

    Each platform runs one container (or job) per submission, and the kit's embedded
    LocalStack runs inside it with no Docker and no network. These commands write what
    each platform asks for; `run` is what those files call inside the container.
    """


@autograder.command(name="gradescope")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("autograder.zip"),
    show_default=True,
    help="The zip to write.",
)
@click.option(
    "--visibility",
    type=click.Choice(VISIBILITIES),
    default="visible",
    show_default=True,
    help="When learners see each requirement's feedback.",
)
@click.option(
    "--time-budget",
    type=click.IntRange(60, 2400),
    default=300,
    show_default=True,
    help="Seconds a submission's run may take in all; keep it under the assignment's "
    "timeout (Gradescope's default: 600).",
)
def autograder_gradescope(output: Path, visibility: str, time_budget: int) -> None:
    """Write the autograder zip Gradescope builds its image from.

    It holds setup.sh (installs the kit, its locked dependencies and LocalStack's, and
    bubblewrap), run_autograder (grades /autograder/submission, writes
    /autograder/results/results.json) and the kit itself. Upload it on the assignment's
    Configure Autograder page.
    """
    from sfnlab.grading.platforms.packages import gradescope_zip
    from sfnlab.support.progress import shown_path

    written = gradescope_zip(output, visibility=visibility, time_budget=time_budget)
    click.echo(f"Wrote {shown_path(written.resolve())}: upload it as the assignment's autograder.")


@autograder.command(name="prairielearn")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("sfnlab-prairielearn"),
    show_default=True,
    help="The folder to write into.",
)
@click.option(
    "--image",
    default="sfnlab/grader",
    show_default=True,
    help="The grading image's name, as info.json names it (push it where PrairieLearn pulls from).",
)
@click.option(
    "--timeout",
    type=click.IntRange(60, 600),
    default=150,
    show_default=True,
    help="Seconds PrairieLearn gives a grading job (info.json); the grader keeps 30 s of it.",
)
def autograder_prairielearn(output: Path, image: str, timeout: int) -> None:
    """Write what a PrairieLearn course needs for the externally graded question.

    image/ is the grading image's build context (a Dockerfile built on the kit's own
    install, and the grader script that reads /grade/student and writes
    /grade/results/results.json, with no network); questions/SolveIssue/ is the question,
    its info.json holding the external-grading block.
    """
    from sfnlab.grading.platforms.packages import prairielearn_folder
    from sfnlab.support.progress import shown_path

    for path in prairielearn_folder(output, image=image, timeout=timeout):
        click.echo(f"Wrote {shown_path(path.resolve())}")
    click.echo(f"Build the image: docker build -t {image} {shown_path(output.resolve())}/image")


@autograder.command(name="ci")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The root of the learners' template repository.",
)
@click.option(
    "--kit-repository",
    help="Where CI clones the kit from [default: this kit's git remote `origin`].",
)
@click.option("--kit-ref", default="main", show_default=True, help="The kit's branch or tag.")
@click.option(
    "--min-score",
    type=click.IntRange(0, 100),
    default=100,
    show_default=True,
    help="The job fails below this score.",
)
def autograder_ci(output: Path, kit_repository: str | None, kit_ref: str, min_score: int) -> None:
    """Write a GitHub Actions workflow and a GitLab CI file that grade a learner's
    repository (laid out like starter/) on every push.

    Each installs the kit, grades the repository, publishes the JUnit report and the
    score (GitHub: the job summary; GitLab: the job's coverage), and fails below
    --min-score.
    """
    from sfnlab.grading.platforms.packages import ci_files, origin_url
    from sfnlab.support.progress import shown_path

    repository = kit_repository or origin_url()
    for path in ci_files(output, kit_repository=repository, kit_ref=kit_ref, min_score=min_score):
        click.echo(f"Wrote {shown_path(path.resolve())}")


@autograder.command(name="run")
@click.argument("platform", type=click.Choice(PLATFORM_FORMATS))
@click.option(
    "--visibility",
    type=click.Choice(VISIBILITIES),
    default="visible",
    show_default=True,
    help="Gradescope: when learners see each requirement's feedback.",
)
@click.option(
    "--time-budget",
    type=click.FloatRange(min=30),
    help="Seconds the whole run may take [default: 300 on Gradescope, 120 on PrairieLearn].",
)
@pass_settings
@click.pass_context
def autograder_run(
    ctx: click.Context,
    settings: Settings,
    platform: str,
    visibility: str,
    time_budget: float | None,
) -> None:
    """Grade the one submission in this platform container and write its results file.

    What run_autograder (Gradescope) and the grader script (PrairieLearn) call. The
    platform's folder is SFNLAB_PLATFORM_ROOT (default /autograder or /grade). Results
    are written whatever happens; exits 5 when the kit, not the submission, failed.
    """
    from sfnlab.grading.platforms import container

    ran = container.run(platform, settings, visibility=visibility, budget=time_budget)
    for line in container.instructor_lines(ran):
        click.echo(line)
    ctx.exit(5 if ran.kit_failed else 0)


@autograder.command(name="prepare")
@pass_settings
def autograder_prepare(settings: Settings) -> None:
    """Install the embedded LocalStack's environment now (what an image's build runs),
    and, where Node.js is installed, the AWS SDK for JavaScript its Node.js functions get,
    so that grading a submission starts from them and needs no network."""
    from sfnlab.localstack.install import ensure_nodejs_sdk, ensure_runtime_env

    python = ensure_runtime_env(settings)
    click.echo(f"LocalStack's environment is ready: {python}")
    if unavailable := ensure_nodejs_sdk(settings):
        click.echo(f"JavaScript solutions cannot be graded with this image: {unavailable}")


@main.command()
@click.argument("execution", required=False)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the picture to this file (.svg or .html).",
)
@click.option("--machine", default=STATE_MACHINE_NAME, show_default=True)
@click.option(
    "--watch",
    is_flag=True,
    help="Serve the picture as a web page on 127.0.0.1 that updates itself each second "
    "(without EXECUTION: each new execution as it starts), and keep the inbox's review "
    "marks current, until Ctrl-C.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=4568,
    show_default=True,
    help="The live page's port, with --watch (0: any free one).",
)
@click.option("--no-browser", is_flag=True, help="With --watch: do not open a browser.")
@pass_settings
def graph(
    settings: Settings,
    execution: str | None,
    output: Path | None,
    machine: str,
    watch: bool,
    port: int,
    no_browser: bool,
) -> None:
    """Draw the workflow: each state marked by what happened in EXECUTION (default: latest).

    In the terminal as text; with --output as an SVG or HTML file to open in a browser;
    with --watch as a live page.
    """
    from sfnlab.support.progress import note
    from sfnlab.workflow.graph import graph as draw_graph

    if watch:
        from sfnlab.workflow.live import watch as watch_live

        if output:
            note(f"Saved {draw_graph(settings, execution, machine).save(output)}")
        watch_live(settings, execution, machine, port, open_browser=not no_browser)
        return
    picture = draw_graph(settings, execution, machine)
    click.echo(graph_text(picture))
    if output:
        note(f"Saved {picture.save(output)}")


STATUS_COLOURS = {
    "succeeded": "green",
    "failed": "red",
    "caught": "yellow",
    "waiting": "blue",
    "stopped": "magenta",
}


def graph_text(picture: Any) -> str:
    """The picture as text, each state coloured by its outcome (on a terminal only)."""
    lines = [click.style(picture.title, bold=True)]
    for status, line in picture.lines():
        lines.append(
            click.style(line, fg=STATUS_COLOURS.get(status), dim=status not in STATUS_COLOURS)
        )
    return "\n".join(lines)


@main.command(name="test-state")
@click.argument("state")
@click.option(
    "--definition",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The definition the state is in (default: definitions/SolveIssueStepFunction.json); "
    "its ${...} placeholders are filled in as `sfnlab deploy` fills them.",
)
@click.option(
    "--input",
    "input_text",
    metavar="JSON|@FILE",
    help="The state's input, as JSON text or @ and a file's name (default: {}).",
)
@click.option(
    "--mock-result",
    metavar="JSON|@FILE",
    help="A Task's result, instead of calling its Lambda: JSON text or @ and a file's name.",
)
@click.option("--mock-error", metavar="ERROR", help="An error the Task raises, instead.")
@click.option("--mock-cause", default="", help="With --mock-error: the error's cause.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_settings
def test_state_command(
    settings: Settings,
    state: str,
    definition: Path | None,
    input_text: str | None,
    mock_result: str | None,
    mock_error: str | None,
    mock_cause: str,
    as_json: bool,
) -> None:
    """Test one STATE of a definition alone (Step Functions' TestState), and show its data
    flow step by step: input, after InputPath, after Parameters, the result, after
    ResultSelector, after ResultPath, the output; then its status and the next state.

    A Task calls its deployed Lambda, unless --mock-result (or --mock-error) says what it
    returns (or raises): then nothing needs to be deployed.
    """
    from sfnlab.workflow.test_state import test_state

    tested = test_state(
        settings,
        state,
        definition=definition,
        input=json_option("--input", input_text),
        mock_result=json_option("--mock-result", mock_result),
        mock_error=(mock_error, mock_cause) if mock_error else None,
    )
    click.echo(as_json_text(tested) if as_json else tested.text())


def json_option(option: str, text: str | None) -> Any:
    """The JSON value of an option given as JSON text or as @ and a file's name."""
    from sfnlab.errors import LearnerError

    if text is None:
        return None
    where = option
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            raise LearnerError(
                f"{option} names the file {path}, which cannot be read ({reason}).",
                hint="Give the path of a JSON file after @, or the JSON itself.",
            ) from None
        where = f"{option} {path}"
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise LearnerError(
            f"{where} is not JSON: {error.msg} at line {error.lineno}, column {error.colno}.",
            hint="Quote it for the shell, e.g. --input '{\"approved\": true}', "
            "or put it in a file and give @file.",
        ) from None


@main.command()
@click.option("--ip", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8888, show_default=True)
@click.option("--no-browser", is_flag=True, help="Do not open a browser.")
def notebook(ip: str, port: int, no_browser: bool) -> None:
    """Start JupyterLab on the guided notebooks (notebooks/), from the kit's environment.

    The first time, it installs JupyterLab into that environment.
    """
    from sfnlab.notebook import serve

    serve(ip, port, open_browser=not no_browser)


@main.command()
@pass_settings
def smoke(settings: Settings) -> None:
    """Deploy a hello-world Lambda and invoke it: proves LocalStack runs Lambdas."""
    from sfnlab.localstack.smoke import smoke as run_smoke

    result = run_smoke(settings)
    click.echo(json.dumps(result.payload, indent=2))
    click.echo(result.log_tail)
    click.echo(f"Invoked in {result.invoke_ms:.0f} ms.")


@main.command(name="settings")
@click.option("--json", "as_json", is_flag=True, help="As JSON: a list of name, value, source.")
def settings_command(as_json: bool) -> None:
    """Show every setting the kit reads, its value in effect, and where that came from.

    Each is an environment variable (set it before any `sfnlab` command); the source is
    `environment`, `default`, or the variable it fell back to. A value in parentheses is
    the default as described, worked out when it is needed.
    """
    from sfnlab.settings import resolved

    rows = resolved()
    if as_json:
        keys = ("name", "value", "source")
        click.echo(json.dumps([dict(zip(keys, row, strict=True)) for row in rows], indent=2))
    else:
        click.echo(table([("NAME", "VALUE", "SOURCE"), *rows]))
