"""Grade solutions: each in a fresh account, through three runs, judged requirement by requirement.

For each solution: a random account nobody used (checked empty first), the definition
checked as AWS would, the solution deployed with an unguessable inbox address per Lambda,
the approve run, the reject run and the steps on their own (`scenarios.py`), one check per
requirement (`checks.py`), and everything removed again (checked; for a class, while the
next solution is graded). Nothing a solution does stops the class: whatever goes wrong
marks that solution's unjudged requirements "not checked: <why>". A fault of the kit
(LocalStack, the executor, the grader) is retried once in a new account, and if it
persists the solution is reported "could not grade (kit error)", never charged to the learner.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from sfnlab.deploy.definition import definition_text, validate
from sfnlab.deploy.resources import deploy_into_empty_account, lambda_inbox_url
from sfnlab.deploy.step_code import code_files
from sfnlab.errors import DefinitionError, KitFault, LearnerError, SolutionFault
from sfnlab.exercise import DEFAULT_PREFIX, DEFINITION_FILE, LAMBDAS_FOLDER, role_name
from sfnlab.grading import closed_endpoints, faults, solution_files
from sfnlab.grading.checks import CHECKS, Evidence, Verdict, met, not_checked, not_met
from sfnlab.grading.mailbox import CaptureServer, InboxMailbox, Mailbox
from sfnlab.grading.network import network_of
from sfnlab.grading.requirements import BY_ID, DEFINITION_VALID, REQUIREMENTS, TOTAL_POINTS
from sfnlab.grading.scenarios import Context, OutOfTime, all_runs
from sfnlab.grading.solution_files import refuse_links_out, refuse_oversized
from sfnlab.grading.workflow import Workflow
from sfnlab.localstack import embedded
from sfnlab.settings import DEFAULT_GRADING_JOBS, Settings
from sfnlab.support.aws import client

DEFAULT_TIME_LIMIT = 90.0
FUNCTION_TIMEOUT = 5  # seconds a graded Lambda may run: a handler that never returns stops
CLEAN_UP_TIME = 10.0  # seconds of the time limit kept for removing the solution
ATTEMPTS = 2  # a kit fault is retried once
_used_accounts: set[str] = set()
_accounts_lock = threading.Lock()


@dataclass
class SolutionReport:
    solution: str
    path: str
    verdicts: list[Verdict]
    seconds: float = 0.0
    account: str = ""  # the last LocalStack account it ran in (emptied again afterwards)
    explained: str | None = None  # set when the kit, not the solution, failed
    clean_up: str | None = None  # what could not be removed, if anything (not the learner's)
    attempts: int = 1
    # What its code tried of LocalStack's own endpoints, blocked (`closed_endpoints.py`).
    blocked: list[str] = field(default_factory=list)
    refused: str | None = None  # why what was handed in could not be taken (the learner's)
    problems: list[str] = field(default_factory=list)  # found before it ran: it cannot run
    warnings: list[str] = field(default_factory=list)  # found before it ran: it loses points
    notes: list[str] = field(default_factory=list)  # how it was graded (a sandbox, say)
    timings: dict[str, float] = field(default_factory=dict)  # seconds, phase by phase

    @property
    def score(self) -> int:
        return sum(verdict.points for verdict in self.verdicts)

    @property
    def total(self) -> int:
        return TOTAL_POINTS

    @property
    def graded(self) -> bool:
        return self.explained is None

    def verdict(self, requirement_id: str) -> Verdict:
        return next(v for v in self.verdicts if v.requirement.id == requirement_id)

    @property
    def failed(self) -> set[str]:
        return {v.requirement.id for v in self.verdicts if not v.passed}


@dataclass
class Attempt:
    """One try at grading one solution, in one fresh account."""

    folder: Path
    settings: Settings
    mailbox: Mailbox
    deadline: float  # for the runs; clean-up has until `deadline + CLEAN_UP_TIME`
    prefix: str = DEFAULT_PREFIX
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    grader_failed: str | None = None
    error: Exception | None = None  # what kept the runs from ending (the kit's, unless...)
    timings: dict[str, float] = field(default_factory=dict)  # seconds: definition, deploy, ...
    cleaned: Future | None = None  # the clean-up: what could not be removed, and its seconds
    blocked: list[str] = field(default_factory=list)

    def fill(self, make: Callable[[str], Verdict]) -> None:
        """Every requirement not judged yet gets `make(id)`."""
        for requirement in REQUIREMENTS:
            self.verdicts.setdefault(requirement.id, make(requirement.id))


def grade(
    folders: list[Path],
    settings: Settings,
    *,
    jobs: int = DEFAULT_GRADING_JOBS,
    time_limit: float = DEFAULT_TIME_LIMIT,
    on_done: Callable[[SolutionReport], None] | None = None,
    names: list[str] | None = None,
) -> list[SolutionReport]:
    """Grade every solution folder on the LocalStack of `settings` (`jobs` at a time).

    Reports come back in the order given, one per folder, whatever happened; each named
    by `names` (default: the folders' names, told apart where they repeat).
    """
    names = names or display_names(folders)
    jobs = max(1, jobs)
    # A solution's clean-up runs beside the next solution's grading; leaving this block
    # waits for every clean-up, so every report is complete when they are returned.
    with (
        mailboxes(settings) as new_mailbox,
        ThreadPoolExecutor(jobs, thread_name_prefix="grading-clean-up") as clean_ups,
    ):

        def one(index: int) -> SolutionReport:
            def done(report: SolutionReport) -> None:
                report.solution = names[index]
                if on_done:
                    on_done(report)

            return grade_solution(
                folders[index],
                settings,
                time_limit=time_limit,
                new_mailbox=new_mailbox,
                clean_ups=clean_ups,
                on_done=done,
            )

        with ThreadPoolExecutor(jobs, thread_name_prefix="grading") as pool:
            return list(pool.map(one, range(len(folders))))


def refused_report(name: str, path: str, reason: str) -> SolutionReport:
    """The report of a hand-in the grader could not take (an unsafe zip, say): nothing ran."""
    verdicts = [not_checked(r, f"nothing was run: {reason}") for r in REQUIREMENTS]
    return SolutionReport(name, path, verdicts, refused=reason)


@contextlib.contextmanager
def mailboxes(settings: Settings) -> Iterator[Callable[[], Mailbox]]:
    """Where graded Lambdas send messages: this process, when they run on this machine
    (listening inside the grading stack's network, when it has one of its own)."""
    if embedded.running_embedded(settings) is not None:
        network = network_of(settings.endpoint)
        server = CaptureServer(network.listener() if network else None)
        try:
            yield server.mailbox
        finally:
            server.close()
        return
    inbox_url = lambda_inbox_url(settings)
    yield lambda: InboxMailbox(settings.inbox_url, inbox_url)


def display_names(folders: list[Path]) -> list[str]:
    """Each folder's name; with its parent's where names repeat; numbered if still alike."""
    names = [folder.resolve().name for folder in folders]
    names = [
        f"{folder.resolve().parent.name}/{name}" if names.count(name) > 1 else name
        for folder, name in zip(folders, names, strict=True)
    ]
    unique: list[str] = []
    for name in names:
        candidate, number = name, 1
        while candidate in unique:
            number += 1
            candidate = f"{name} ({number})"
        unique.append(candidate)
    return unique


def grade_solution(
    folder: Path,
    settings: Settings,
    *,
    time_limit: float = DEFAULT_TIME_LIMIT,
    new_mailbox: Callable[[], Mailbox] | None = None,
    clean_ups: Executor | None = None,
    on_done: Callable[[SolutionReport], None] | None = None,
    stopped_by_solution: Callable[[], str | None] | None = None,
) -> SolutionReport:
    """Grade one solution folder, however broken; never raises for the solution's faults.

    With `clean_ups`, the solution is removed from LocalStack by that executor and the
    report returned at once; `report.clean_up` is known, and `on_done(report)` called,
    when that is done. Without, both happen before this returns.

    `stopped_by_solution()`, asked when a try fails, says how the solution itself stopped
    LocalStack, if it did (one submission per container: nothing else runs its code);
    the solution then keeps what it earned before, and loses the rest, with that reason.
    """
    if new_mailbox is None:
        with mailboxes(settings) as own_mailbox:
            return grade_solution(
                folder,
                settings,
                time_limit=time_limit,
                new_mailbox=own_mailbox,
                clean_ups=clean_ups,
                on_done=on_done,
                stopped_by_solution=stopped_by_solution,
            )
    started = time.monotonic()
    report = SolutionReport(folder.resolve().name, str(folder), [])
    cleaned: Future | None = None
    judged: dict[str, Verdict] = {}  # by the try that got furthest, if it failed
    for attempt_number in range(1, ATTEMPTS + 1):
        report.attempts = attempt_number
        attempt: Attempt | None = None
        try:
            attempt = run_attempt(folder, settings, time_limit, new_mailbox, clean_ups)
            error = attempt.error
        except Exception as e:
            error = e
        if error is not None:
            if attempt is not None and len(attempt.verdicts) > len(judged):
                judged = attempt.verdicts
            stopped = stopped_by_solution() if stopped_by_solution else None
            if stopped:  # the learner's own doing: what was judged before stands
                report.verdicts = [judged.get(r.id) or not_met(r, stopped) for r in REQUIREMENTS]
                report.notes.append(stopped)
                report.explained = None
                break
            # The kit's fault, whatever it is: try again, then say so.
            report.explained = f"could not grade (kit error): {faults.describe(error)}"
            excerpt = faults.log_excerpt(settings.log_file if settings.log_file.exists() else None)
            if excerpt:
                report.explained += f"\nLocalStack's log:\n{excerpt}"
            continue
        report.verdicts = [attempt.verdicts[r.id] for r in REQUIREMENTS]
        report.timings = attempt.timings
        report.account = attempt.settings.account_id
        report.blocked = attempt.blocked
        cleaned = attempt.cleaned
        report.explained = (
            f"could not grade (kit error): the grader failed: {attempt.grader_failed}"
            if attempt.grader_failed
            else None
        )
        break
    else:
        reason = (report.explained or "").split("\n", 1)[0]
        report.verdicts = [not_checked(r, reason) for r in REQUIREMENTS]

    judged = time.monotonic() - started

    def finish(clean_up: Future | None = None) -> None:
        # The solution's own time: grading it, then removing it (not waiting for a turn).
        report.seconds = judged
        if clean_up is not None:
            try:
                report.clean_up, seconds = clean_up.result()
                report.seconds += seconds
            except Exception as e:  # the kit's: reported, the account is never used again
                report.clean_up = f"clean-up failed: {faults.describe(e)}"
        if on_done:
            on_done(report)

    if cleaned is None:
        finish()
    else:
        cleaned.add_done_callback(finish)  # at once when it is done already
    return report


def run_attempt(
    folder: Path,
    base: Settings,
    time_limit: float,
    new_mailbox: Callable[[], Mailbox],
    clean_ups: Executor | None = None,
) -> Attempt:
    """One try; what kept its runs from ending (the kit's fault, as a rule) is its `error`.
    Its clean-up is started (in `clean_ups`, or done here) in any case."""
    started = time.monotonic()
    settings = replace(base, account_id=fresh_account(base))
    mailbox = new_mailbox()
    attempt = Attempt(folder, settings, mailbox, started + max(1.0, time_limit - CLEAN_UP_TIME))
    log_start = closed_endpoints.log_position(settings)
    try:
        judge(attempt, time_limit)
        attempt.blocked = closed_endpoints.refused(settings, log_start, attempt.prefix)
    except Exception as e:
        attempt.error = e
    finally:
        mailbox.close()
        if clean_ups is None:
            attempt.cleaned = Future()
            attempt.cleaned.set_result(timed_clean_up(settings, attempt.prefix))
        else:
            attempt.cleaned = clean_ups.submit(timed_clean_up, settings, attempt.prefix)
    return attempt


def timed_clean_up(settings: Settings, prefix: str) -> tuple[str | None, float]:
    started = time.monotonic()
    problem = clean_up(settings, prefix)
    return problem, time.monotonic() - started


@contextlib.contextmanager
def timed(attempt: Attempt, phase: str) -> Iterator[None]:
    started = time.monotonic()
    try:
        yield
    finally:
        attempt.timings[phase] = time.monotonic() - started


def judge(attempt: Attempt, time_limit: float) -> None:
    try:
        with timed(attempt, "definition checked"):
            workflow = check_definition(attempt)
        if workflow is None:
            attempt.fill(
                lambda _: not_checked(
                    BY_ID[_], "nothing could run, because the definition is not valid"
                )
            )
            return
        with timed(attempt, "deployed"):
            context = deploy_solution(attempt, workflow)
        with timed(attempt, "three runs"):
            approve, reject, own = all_runs(context)
    except OutOfTime:
        reason = (
            f"the solution used up its time limit of {time_limit:.0f} s (an execution that "
            "never ends, or a Lambda that never returns?)"
        )
        attempt.fill(lambda requirement_id: not_checked(BY_ID[requirement_id], reason))
        return
    except SolutionFault as e:
        why = str(e)
        attempt.fill(lambda requirement_id: not_checked(BY_ID[requirement_id], why))
        return
    evidence = Evidence(workflow, approve, reject, own, attempt.prefix)
    with timed(attempt, "judged"):
        judge_requirements(attempt, evidence)


def judge_requirements(attempt: Attempt, evidence: Evidence) -> None:
    for check, requirement in zip(CHECKS, REQUIREMENTS[1:], strict=True):
        try:
            attempt.verdicts[requirement.id] = check(evidence)
        except Exception as e:  # a fault of the grader: not the learner's
            attempt.grader_failed = f"{requirement.id}: {faults.describe(e)}"
            attempt.verdicts[requirement.id] = not_checked(
                requirement, f"could not grade (kit error): {faults.describe(e)}"
            )


def check_definition(attempt: Attempt) -> Workflow | None:
    """Judge the definition as AWS would; the workflow it describes, if valid."""
    settings, folder = attempt.settings, attempt.folder
    try:
        refuse_oversized(folder, [folder / DEFINITION_FILE], DefinitionError)
        definition = solution_files.definition(
            folder, account=settings.account_id, region=settings.region, prefix=attempt.prefix
        )
        validate(client("stepfunctions", settings), definition_text(definition))
    except DefinitionError as e:
        attempt.verdicts[DEFINITION_VALID.id] = not_met(DEFINITION_VALID, str(e))
        return None
    states = len(definition.get("States", {}))
    attempt.verdicts[DEFINITION_VALID.id] = met(DEFINITION_VALID, f"{states} states.")
    return Workflow.read(definition, attempt.prefix)


def deploy_solution(attempt: Attempt, workflow: Workflow) -> Context:
    lambdas = attempt.folder / LAMBDAS_FOLDER
    if not lambdas.is_dir() or not code_files(lambdas):
        raise SolutionFault(
            f"the solution has no Lambda code: no .py or .js files in {LAMBDAS_FOLDER}/"
        )
    files = [attempt.folder / path for path in solution_files.solution_files(attempt.folder)]
    refuse_links_out(attempt.folder, files, SolutionFault)
    refuse_oversized(attempt.folder, files, SolutionFault)
    context = Context(attempt.settings, workflow, attempt.mailbox, attempt.deadline)
    context.remaining()
    try:
        deployment = deploy_into_empty_account(  # checked empty by `fresh_account`
            attempt.settings,
            lambdas,
            workflow.definition,  # rendered and validated by `check_definition`
            prefix=attempt.prefix,
            function_timeout=FUNCTION_TIMEOUT,
            inbox_url_for=lambda step: attempt.mailbox.address(step.key),
        )
    except DefinitionError as e:  # checked already; the same problem, seen by deploy
        raise SolutionFault(str(e)) from None
    except LearnerError as e:
        raise KitFault(f"deploying the solution failed: {e}") from e
    context.machine_arn = deployment.state_machine_arn
    context.states_role = deployment.state_machine_role
    return context


# Accounts ------------------------------------------------------------------------------


def fresh_account(settings: Settings) -> str:
    """A random 12-digit account, never used in this process and found empty."""
    for _ in range(10):
        account = f"{10**11 + secrets.randbelow(9 * 10**11):012d}"
        with _accounts_lock:
            if account in _used_accounts:
                continue
            _used_accounts.add(account)
        if not leftovers(replace(settings, account_id=account)):
            return account
    raise KitFault("found no empty LocalStack account to grade in")


def leftovers(settings: Settings, prefix: str = DEFAULT_PREFIX) -> list[str]:
    """What the account still holds: functions, state machines, the exercise's roles."""
    found = [
        f"function {f['FunctionName']}"
        for f in client("lambda", settings).list_functions()["Functions"]
    ]
    found += [
        f"state machine {m['name']}"
        for m in client("stepfunctions", settings).list_state_machines()["stateMachines"]
    ]
    found += [
        f"role {r['RoleName']}"
        for r in client("iam", settings).list_roles()["Roles"]
        if r["RoleName"].startswith(prefix)
    ]
    return found


def clean_up(settings: Settings, prefix: str = DEFAULT_PREFIX) -> str | None:
    """Remove the solution's executions, state machines, functions and roles; what is left.

    Executions stop first and functions go next, so nothing runs on while the rest goes.
    """
    sfn = client("stepfunctions", settings)
    with contextlib.suppress(Exception):
        for machine in sfn.list_state_machines()["stateMachines"]:
            arn = machine["stateMachineArn"]
            for running in sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")[
                "executions"
            ]:
                with contextlib.suppress(Exception):
                    sfn.stop_execution(executionArn=running["executionArn"])
            with contextlib.suppress(Exception):
                sfn.delete_state_machine(stateMachineArn=arn)
    lam = client("lambda", settings)
    with contextlib.suppress(Exception):
        for function in lam.list_functions()["Functions"]:
            with contextlib.suppress(Exception):
                lam.delete_function(FunctionName=function["FunctionName"])
    iam = client("iam", settings)
    for purpose in ("lambda", "approve", "states"):
        name = role_name(prefix, purpose)
        with contextlib.suppress(Exception):
            for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
                iam.delete_role_policy(RoleName=name, PolicyName=policy)
            iam.delete_role(RoleName=name)
    try:
        left = leftovers(settings, prefix)
    except Exception as e:
        return f"could not check account {settings.account_id} after clean-up: {e}"
    if left:
        return f"account {settings.account_id} still holds {', '.join(left)} (never used again)"
    return None
