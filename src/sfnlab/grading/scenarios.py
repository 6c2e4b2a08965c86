"""The runs a solution goes through, each kept as evidence for the checks.

- the approve run: start, wait for the review, invoke the approve Lambda with
  `approve: true` and the token, wait for the end;
- the reject run: the same with `approve: false`;
- the steps on their own: each step's state run by itself, one after the other, each
  given a contract-shaped payload, so a broken step costs only its own points.

The three overlap (`relay.py`): each starts while the one before goes past its review.
Every run has data of its own (`contract.random_run`), every wait is bounded by the
solution's time limit, and a Lambda service failure is the kit's fault, not the learner's.
Each wait looks again as soon as the step that comes last before what it waits for
has sent its message (Notify Reviewers before the review, Notify Ops before the end),
and otherwise backs off: an execution is asked about a few times, not every few ms.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from sfnlab.errors import KitFault
from sfnlab.exercise import APPROVE, STEPS, Step
from sfnlab.grading.contract import RunData, random_run, step_inputs
from sfnlab.grading.faults import LAMBDA_SERVICE_ERRORS
from sfnlab.grading.mailbox import Mailbox, Message
from sfnlab.grading.relay import Abandoned, Relay
from sfnlab.grading.workflow import Workflow, value_at
from sfnlab.settings import Settings
from sfnlab.support.aws import client
from sfnlab.support.polling import poll
from sfnlab.workflow.history import History, fetch_events, read_history, readable_error

EXECUTION_WAIT = 20.0  # seconds a run may take to reach the review, or its end
# Seconds for a decision to show once the approve Lambda returned: its SendTask* calls
# returned before it did, and Step Functions answers at once whether the task has its
# decision (`task_decided`); this is for a LocalStack that cannot say (no kit patches).
ANSWER_WAIT = 1.0
FIRST_LOOK = 0.1  # seconds before a run is looked at again, when no message comes
MAX_DELAY = 1.0  # ... and at most, as the pauses grow
RETURN_GRACE = 0.05  # seconds a step's Lambda takes to return after sending its message
OWN_STEPS_MACHINE = "SolveIssueStepByStep"
NOTIFY_REVIEWERS = next(step for step in STEPS if step.key == "NotifyReviewers")
NOTIFY_OPS = next(step for step in STEPS if step.key == "NotifyOps")
T = TypeVar("T")


class OutOfTime(Exception):
    """The solution used up its time limit."""


@dataclass
class Context:
    """One solution being graded: its account, its workflow, its mailbox, its clock."""

    settings: Settings
    workflow: Workflow
    mailbox: Mailbox
    deadline: float
    machine_arn: str = ""
    states_role: str = ""
    prefix: str = "sfnlab-"
    abandoned: threading.Event = field(default_factory=threading.Event)  # another run failed

    def remaining(self, limit: float = EXECUTION_WAIT) -> float:
        if self.abandoned.is_set():
            raise Abandoned
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise OutOfTime
        return min(limit, left)

    def function(self, step: Step) -> str:
        return step.function_name(self.prefix)

    @property
    def sfn(self) -> Any:
        return client("stepfunctions", self.settings)

    @property
    def lam(self) -> Any:
        return client("lambda", self.settings)


@dataclass
class Outcome:
    """The evidence of one run."""

    label: str  # "the approve run", ...
    data: RunData
    run: History | None = None
    messages: dict[str, list[Message]] = field(default_factory=dict)  # step key -> messages
    token: str | None = None  # the task token the review waited for
    reached_review: bool = False
    approve_event: dict | None = None
    approve_result: Any = None
    approve_error: str | None = None  # the approve Lambda's error, if it failed
    inputs: dict[str, dict] = field(default_factory=dict)  # steps on their own: their payloads

    def sent(self, step: Step) -> list[Message]:
        return self.messages.get(step.key, [])


def history(context: Context, arn: str) -> History:
    run = read_history(arn, fetch_events(context.sfn, arn))
    for number, call in enumerate(run.calls):
        retried = any(
            later.state == call.state and later.function == call.function
            for later in run.calls[number + 1 :]
        )
        if call.error in LAMBDA_SERVICE_ERRORS and not retried and run.waiting_call() is None:
            raise KitFault(
                f"LocalStack failed to run {call.function}: "
                f"{readable_error(call.error, call.cause)}"
            )
    return run


def watch(context: Context, check: Callable[[], T], limit: float, herald: Step) -> T:
    """`check` until it is true, within `limit` seconds and the solution's time: again
    soon after `herald`'s Lambda sends a message, else at growing intervals."""
    seen = context.mailbox.mark()

    def pause(seconds: float) -> bool:
        nonlocal seen
        if context.abandoned.is_set():
            raise Abandoned
        newest = context.mailbox.wait(herald.key, seen, seconds)
        woken, seen = newest > seen, newest
        if woken:  # its Lambda returns, and Step Functions records it, just after
            time.sleep(RETURN_GRACE)
        return woken

    return poll(
        check,
        context.remaining(limit),
        max_delay=MAX_DELAY,
        first_delay=FIRST_LOOK,
        pause=pause,
    )


def wait_for_review(context: Context, arn: str) -> History:
    """The run once it waits for a task token or has ended, as its history tells."""
    seen: list[History] = []

    def check() -> bool:
        seen[:] = [history(context, arn)]
        return seen[0].ended or seen[0].waiting_call() is not None

    watch(context, check, EXECUTION_WAIT, NOTIFY_REVIEWERS)
    return seen[0]


def wait_for_end(context: Context, arn: str) -> History:
    watch(context, lambda: status(context, arn) != "RUNNING", EXECUTION_WAIT, NOTIFY_OPS)
    return history(context, arn)


def wait_after_decision(context: Context, arn: str, token: str) -> History:
    """The run once it ended; or, if the review still waits ANSWER_WAIT seconds after the
    approve Lambda returned, as it is then (the decision never reached Step Functions).

    Step Functions tells at once whether the task has its decision, however busy the
    machine is: so a decision that came is never taken for one that did not.
    """
    sent = time.monotonic()
    answered = task_decided(context, token)

    def check() -> bool:
        nonlocal answered
        if status(context, arn) != "RUNNING":
            return True
        if not answered and time.monotonic() - sent >= ANSWER_WAIT:
            if history(context, arn).waiting_call() is not None:
                return True
            answered = True
        return False

    watch(context, check, EXECUTION_WAIT, NOTIFY_OPS)
    return history(context, arn)


def status(context: Context, arn: str) -> str:
    return context.sfn.describe_execution(executionArn=arn)["status"]


def task_decided(context: Context, token: str) -> bool:
    """Whether the task of `token` has had its decision (or ended otherwise).

    A heartbeat is refused with TaskTimedOut once a task is closed (the kit's LocalStack,
    as AWS); it changes nothing else, and a task still waiting just takes it. Where the
    answer says neither (a LocalStack without the kit's patches), the history tells.
    """
    try:
        context.sfn.send_task_heartbeat(taskToken=token)
    except ClientError as e:
        return e.response["Error"]["Code"] == "TaskTimedOut"
    return False


def start(context: Context, machine_arn: str, payload: Any, label: str) -> str:
    return context.sfn.start_execution(
        stateMachineArn=machine_arn,
        name=f"{label}-{secrets.token_hex(4)}",
        input=json.dumps(payload),
    )["executionArn"]


def collect(context: Context, outcome: Outcome, relay: Relay, number: int) -> None:
    for step in [*STEPS, APPROVE]:
        since, until = relay.window(number, step.key)
        outcome.messages[step.key] = context.mailbox.messages(step.key, since, until)


def review_token(context: Context, run: History) -> tuple[bool, str | None]:
    """Whether the run waits at Notify Reviewers, and the token its definition passes it."""
    waiting = run.waiting_call()
    if waiting is None or waiting.function != context.function(NOTIFY_REVIEWERS):
        return False, None
    state = context.workflow.state_of(NOTIFY_REVIEWERS)
    path = state.token_path if state else None
    token = value_at(waiting.received, path) if path else None
    return True, token if isinstance(token, str) and token else None


def all_runs(context: Context) -> tuple[Outcome, Outcome, Outcome]:
    """The approve run, the reject run and the steps on their own, overlapped as a relay.

    Raises what the first of them to fail raised (the others then stop at once).
    """
    relay = Relay(context.mailbox, 3, context.remaining, context.abandoned)
    plans: list[Callable[[], Outcome]] = [
        lambda: end_to_end(context, True, relay, 0),
        lambda: end_to_end(context, False, relay, 1),
        lambda: steps_on_their_own(context, relay, 2),
    ]

    def run(number: int) -> Outcome:
        try:
            return plans[number]()
        except BaseException:
            relay.give_up(number)
            raise

    with ThreadPoolExecutor(len(plans), thread_name_prefix="grading-run") as pool:
        futures = [pool.submit(run, number) for number in range(len(plans))]
    failures = [f.exception() for f in futures if f.exception() is not None]
    first = next((e for e in failures if not isinstance(e, Abandoned)), None)
    if first is not None:
        raise first
    approve, reject, own = (future.result() for future in futures)
    for number, outcome in enumerate((approve, reject, own)):
        collect(context, outcome, relay, number)
    return approve, reject, own


def to_review(
    context: Context, relay: Relay, number: int, outcome: Outcome, started: tuple[str, Any, str]
) -> tuple[str, History]:
    """Start run `number` in its turn (`started`: the state machine, the input, a name),
    wait for its review, and hand the turn on; with a token, return once it may be decided."""
    relay.start(number)
    arn = start(context, *started)
    run = wait_for_review(context, arn)
    outcome.reached_review, outcome.token = review_token(context, run)
    relay.at_review(number, decidable=outcome.token is not None)
    if outcome.token:
        relay.decide(number)
    return arn, run


def end_to_end(context: Context, approve: bool, relay: Relay, number: int) -> Outcome:
    """Start, wait for the review, decide with the approve Lambda, wait for the end."""
    label = "the approve run" if approve else "the reject run"
    outcome = Outcome(label, random_run())
    started = (context.machine_arn, outcome.data.start_event, label.split()[1])
    arn, run = to_review(context, relay, number, outcome, started)
    if outcome.token:
        # SendTaskSuccess/Failure happen inside the invoke: a decision shows at once.
        invoke_approve(context, outcome, approve)
        run = wait_after_decision(context, arn, outcome.token)
    outcome.run = run
    relay.end(number)
    return outcome


def invoke_approve(context: Context, outcome: Outcome, approve: bool) -> None:
    event = outcome.data.decision(approve, outcome.token or "")
    outcome.approve_event = event
    try:
        response = context.lam.invoke(
            FunctionName=context.function(APPROVE), Payload=json.dumps(event).encode()
        )
    except ClientError as e:
        raise KitFault(f"invoking the approve Lambda failed: {e}") from e
    result = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        error = result if isinstance(result, dict) else {}
        outcome.approve_error = (
            f"{error.get('errorType', 'Error')}: {error.get('errorMessage', result)}"
        )
    else:
        outcome.approve_result = result


def steps_on_their_own(context: Context, relay: Relay, number: int) -> Outcome:
    """Each step's state run by itself, given a contract-shaped payload, one after another."""
    outcome = Outcome("the step's own run", random_run())
    outcome.inputs = step_inputs(outcome.data)
    definition = context.workflow.steps_on_their_own(outcome.inputs)
    waiting_state = context.workflow.state_of(NOTIFY_REVIEWERS)
    if waiting_state and waiting_state.waits_for_token and not waiting_state.token_path:
        # Nobody could hand its token back: let the review time out, and go on.
        definition["States"][waiting_state.name]["TimeoutSeconds"] = 1
        definition["States"][waiting_state.name].pop("HeartbeatSeconds", None)
    # Made of the solution's own states, which the definition check validated already.
    machine_arn = context.sfn.create_state_machine(
        name=OWN_STEPS_MACHINE, definition=json.dumps(definition), roleArn=context.states_role
    )["stateMachineArn"]
    started = (machine_arn, outcome.inputs["CreateCode"], "steps")
    arn, run = to_review(context, relay, number, outcome, started)
    if outcome.token:
        decision = {"approved": True, "reviewer": outcome.data.reviewer}
        try:
            context.sfn.send_task_success(taskToken=outcome.token, output=json.dumps(decision))
        except ClientError as e:
            if e.response["Error"]["Code"] not in ("TaskTimedOut", "InvalidToken"):
                raise
    outcome.run = wait_for_end(context, arn) if not run.ended else run
    relay.end(number)
    return outcome
