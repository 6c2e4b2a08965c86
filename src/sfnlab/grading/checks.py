"""One check per requirement, each reading the evidence of the runs.

A step's requirement is judged in every run that reached the step with a contract-shaped
payload: the approve run, and the step's own run (which feeds each step what the steps
before it should have left). It is met when every run that could show it shows it, so a
step broken by an earlier one still earns its points, and a step that only works with the
values of one run (a hard-coded branch) does not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sfnlab.exercise import APPROVE, STEPS, Step
from sfnlab.grading.contract import (
    BRANCH,
    RELEASE,
    branch_of,
    contains,
    cut_pieces,
    dropped_keys,
    mentions,
    names,
    release_name_of,
)
from sfnlab.grading.requirements import (
    APPROVE_SUCCEEDS,
    MERGE_USES_BRANCH,
    OPS_MESSAGE,
    REACHES_REVIEW,
    REJECT_FAILS,
    RELEASE_CREATED,
    RETURNS_PAYLOAD,
    REVIEWERS_MESSAGE,
    Requirement,
)
from sfnlab.grading.scenarios import EXECUTION_WAIT, NOTIFY_REVIEWERS, Outcome
from sfnlab.grading.workflow import Workflow
from sfnlab.workflow.history import History, Visit

CREATE_BRANCH, MERGE, RELEASE_STEP, NOTIFY_OPS = (
    next(step for step in STEPS if step.key == key)
    for key in ("CreateBranch", "MergeToMaster", "CreateRelease", "NotifyOps")
)
NO_TOKEN = (
    "the definition passes no task token to Notify Reviewers: its Payload has no field "
    'mapped to "$$.Task.Token" (JSONata: "{% $states.context.Task.Token %}")'
)


def no_token(evidence: Evidence) -> str:
    """Why the grader has no token to decide with: none passed, or not the whole one."""
    state = evidence.workflow.state_of(NOTIFY_REVIEWERS)
    found = state.token_expression if state and not state.token_path else None
    if found is None:
        return NO_TOKEN
    where, expression = found
    return (
        f"the definition passes Notify Reviewers no field holding the whole task token: "
        f"{where} is {quoted(expression)}, a value made from the token (cut or merged), not "
        'the token itself; map a Payload field to "$$.Task.Token" (JSONata: '
        '"{% $states.context.Task.Token %}")'
    )


MET, NOT_MET, NO_EVIDENCE = "met", "not met", "no evidence"


@dataclass
class Verdict:
    requirement: Requirement
    passed: bool
    feedback: str
    checked: bool = True  # False: it could not be judged (see the feedback)

    @property
    def points(self) -> int:
        return self.requirement.points if self.passed else 0


def met(requirement: Requirement, seen: str) -> Verdict:
    return Verdict(requirement, True, f"Met: {seen}")


def not_met(requirement: Requirement, seen: str) -> Verdict:
    return Verdict(requirement, False, f"Expected: {requirement.hint} Seen: {seen}")


def not_checked(requirement: Requirement, reason: str) -> Verdict:
    return Verdict(
        requirement, False, f"Expected: {requirement.hint} Seen: not checked: {reason}", False
    )


@dataclass
class Evidence:
    workflow: Workflow
    approve: Outcome
    reject: Outcome
    own: Outcome
    prefix: str = "sfnlab-"

    def function(self, step: Step) -> str:
        return step.function_name(self.prefix)

    def visit(self, outcome: Outcome, step: Step) -> Visit | None:
        state = self.workflow.state_of(step)
        return outcome.run.visit(state.name) if state and outcome.run else None


@dataclass
class Judgment:
    state: str  # MET, NOT_MET, NO_EVIDENCE
    text: str
    label: str


def combine(requirement: Requirement, judgments: list[Judgment]) -> Verdict:
    failed = [j for j in judgments if j.state == NOT_MET]
    if failed:
        return not_met(requirement, "; ".join(f"in {j.label}, {j.text}" for j in failed) + ".")
    shown = [j for j in judgments if j.state == MET]
    if shown:
        return met(requirement, "; ".join(f"{j.text} ({j.label})" for j in shown) + ".")
    return not_met(requirement, "; ".join(f"in {j.label}, {j.text}" for j in judgments) + ".")


def quoted(value: Any, limit: int = 120) -> str:
    import json

    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# The review ----------------------------------------------------------------------------


def why_no_review(evidence: Evidence, outcome: Outcome) -> str:
    state = evidence.workflow.state_of(NOTIFY_REVIEWERS)
    run = outcome.run
    if state is None:
        return evidence.workflow.missing(NOTIFY_REVIEWERS)
    if not state.waits_for_token:
        return (
            f"{state.name} invokes Notify Reviewers without .waitForTaskToken, so the "
            "execution never waits for a review (Resource: "
            "arn:aws:states:::lambda:invoke.waitForTaskToken)"
        )
    if run is None:
        return "the execution could not be followed"
    waiting = run.waiting_call()
    if waiting is not None and waiting.function != evidence.function(NOTIFY_REVIEWERS):
        return f"it waits for a task token at {waiting.state}, which invokes {waiting.function}"
    # Its own failure first: in the step's own run every step runs, and a later one's
    # failure is not why this one never waited.
    own = [call for call in run.calls if call.error and call.state == state.name]
    failed = own[-1] if own else run.last_failure()
    if failed is not None:
        return failed.failure()
    if run.ended:
        return run.describe_end()
    return f"after {EXECUTION_WAIT:.0f} s it was still at {run.path_text()}"


def check_reaches_review(evidence: Evidence) -> Verdict:
    outcome = evidence.approve
    if not outcome.reached_review:
        return not_met(REACHES_REVIEW, why_no_review(evidence, outcome) + ".")
    made = evidence.visit(outcome, CREATE_BRANCH)
    if made is not None and made.exited and branch_of(made.output) is None:
        return not_met(
            REACHES_REVIEW,
            f'it waited at the review, but Create Branch added no "{BRANCH}" (the new '
            f"branch's name) to the payload; its output: {quoted(made.output)}.",
        )
    state = evidence.workflow.state_of(NOTIFY_REVIEWERS)
    return met(REACHES_REVIEW, f"it waited for a task token at {state.name if state else '?'}.")


def reviewers_judgment(evidence: Evidence, outcome: Outcome, branches: list[str]) -> Judgment:
    """`branches`: the names that count as the branch in this run (see the caller)."""
    if not outcome.reached_review:
        return Judgment(
            NO_EVIDENCE,
            f"it never waited at the review: {why_no_review(evidence, outcome)}",
            outcome.label,
        )
    if outcome.token is None:
        return Judgment(NOT_MET, no_token(evidence), outcome.label)
    if not branches:
        return Judgment(NO_EVIDENCE, "Notify Reviewers got no branch to name", outcome.label)
    branch = branches[0]
    token = outcome.token
    sent = [message.value for message in outcome.sent(NOTIFY_REVIEWERS)]
    for message in sent:
        named = next((b for b in branches if names(message, b)), None)
        if names(message, token) and named:
            return Judgment(MET, f"the whole token and the branch {named}", outcome.label)
    if not sent:
        return Judgment(NOT_MET, "Notify Reviewers sent nothing to its INBOX_URL", outcome.label)
    problems = []
    with_token = [message for message in sent if names(message, token)]
    if not with_token:
        pieces = [piece for message in sent for piece in cut_pieces(message, token)]
        if pieces:
            longest = max(pieces, key=len)
            problems.append(
                f"the token was cut short ({len(longest)} of its {len(token)} characters)"
            )
        elif any(mentions(message, token) for message in sent):
            problems.append(
                "the token appears only inside a longer text, not as a value of its own"
            )
        else:
            problems.append(f"none of its {len(sent)} message(s) holds the task token")
    if not any(names(message, branch) for message in with_token or sent):
        where = " (only inside a longer text)" if any(mentions(m, branch) for m in sent) else ""
        problems.append(f"the branch {branch} is not a value of its own{where}")
    return Judgment(NOT_MET, " and ".join(problems), outcome.label)


def created_branch(evidence: Evidence, outcome: Outcome) -> str | None:
    made = evidence.visit(outcome, CREATE_BRANCH)
    return branch_of(made.output) if made and made.exited else None


def check_reviewers_message(evidence: Evidence) -> Verdict:
    if evidence.workflow.state_of(NOTIFY_REVIEWERS) is None:
        return not_met(REVIEWERS_MESSAGE, evidence.workflow.missing(NOTIFY_REVIEWERS) + ".")
    # The branch is the one Create Branch made in that run; in the step's own run, also
    # the one the grader's payload gives (a JSONata `Assign` variable holds the made one).
    approve_branch = created_branch(evidence, evidence.approve)
    own_branches = [branch_of(evidence.own.inputs.get(NOTIFY_REVIEWERS.key))]
    own_branches.append(created_branch(evidence, evidence.own))
    judgments = [
        reviewers_judgment(evidence, evidence.approve, [approve_branch] if approve_branch else []),
        reviewers_judgment(evidence, evidence.own, [b for b in own_branches if b]),
    ]
    if all(j.text == no_token(evidence) for j in judgments):
        return not_met(REVIEWERS_MESSAGE, no_token(evidence) + ".")
    return combine(REVIEWERS_MESSAGE, judgments)


def decision_problem(evidence: Evidence, outcome: Outcome) -> str | None:
    """Why the decision did not get through, if it did not."""
    if not outcome.reached_review:
        return "it never reached the review: " + why_no_review(evidence, outcome)
    if outcome.token is None:
        return "the grader could not decide: " + no_token(evidence)
    if outcome.approve_error:
        return f"the approve Lambda failed ({outcome.approve_error})"
    return None


def review_call(evidence: Evidence, outcome: Outcome):
    run = outcome.run
    function = evidence.function(NOTIFY_REVIEWERS)
    calls = [c for c in run.calls if c.function == function and c.waits_for_token] if run else []
    return calls[-1] if calls else None


def check_approve_succeeds(evidence: Evidence) -> Verdict:
    outcome = evidence.approve
    problem = decision_problem(evidence, outcome)
    if problem:
        return not_met(APPROVE_SUCCEEDS, problem + ".")
    run = outcome.run
    if run.status == "SUCCEEDED":
        return met(APPROVE_SUCCEEDS, f"SUCCEEDED ({run.path_text()}).")
    call = review_call(evidence, outcome)
    if call is not None and call.answer == "failure":
        return not_met(
            APPROVE_SUCCEEDS,
            f"on approval the approve Lambda called SendTaskFailure ({call.answer_error}) "
            "instead of SendTaskSuccess.",
        )
    if call is not None and call.answer is None and call.error is None:
        return not_met(
            APPROVE_SUCCEEDS,
            "the approve Lambda returned, but the review still waits: it never handed the "
            "token back with SendTaskSuccess.",
        )
    reasons = []
    review = evidence.visit(outcome, NOTIFY_REVIEWERS)
    if review is not None and review.exited:
        branch = branch_of(review.input)
        if branch and branch_of(review.output) != branch:
            reasons.append(
                "Notify Reviewers' result replaced the payload (it has no ResultPath), so "
                f"what came next got {quoted(review.output)} without the branch; give it a "
                'ResultPath such as "$.review"'
            )
    failed = run.last_failure()
    if failed is not None and failed.state != (review.name if review else None):
        reasons.append(failed.failure())
    last = run.visits[-1] if run.visits else None
    if not reasons and run.status == "FAILED" and last is not None and last.type == "Fail":
        decision = call.answer_output if call is not None else None
        reasons.append(
            f"after the approval it went to the Fail state {last.name}: the workflow did not "
            f"follow the decision {quoted(decision)}"
        )
    reasons.append(run.describe_end())
    return not_met(APPROVE_SUCCEEDS, "; ".join(reasons) + ".")


# The steps after the review ------------------------------------------------------------


def message_judgment(
    outcome: Outcome, step: Step, visit: Visit | None, expected: str | None, what: str, key: str
) -> Judgment:
    label = outcome.label
    if expected is None:
        return Judgment(NO_EVIDENCE, f"there was no {what} for {step.title} to name", label)
    if visit is None:
        return Judgment(NO_EVIDENCE, f"{step.title} never ran", label)
    got = visit.input.get(key) if isinstance(visit.input, dict) else None
    if (
        got is None
        or (what == "release" and release_name_of(visit.input) != expected)
        or (what == "branch" and got != expected)
    ):
        return Judgment(NO_EVIDENCE, f"{step.title} got no {what} in its payload", label)
    calls = [c for c in outcome.run.calls if c.state == visit.name] if outcome.run else []
    if calls and calls[-1].error:
        return Judgment(NOT_MET, calls[-1].failure(), label)
    sent = [message.value for message in outcome.sent(step)]
    if any(names(message, expected) for message in sent):
        return Judgment(MET, f"its message names the {what} {expected}", label)
    if not sent:
        return Judgment(NOT_MET, f"{step.title} sent nothing to its INBOX_URL", label)
    if any(mentions(message, expected) for message in sent):
        return Judgment(
            NOT_MET,
            f"{step.title} named the {what} {expected} only inside a longer text, not as a "
            "value of its own",
            label,
        )
    return Judgment(
        NOT_MET,
        f"{step.title}'s message(s) did not name the {what} {expected}: {quoted(sent[-1])}",
        label,
    )


def check_message_names(
    evidence: Evidence,
    requirement: Requirement,
    step: Step,
    made_by: Step,
    name_of: Callable[[Any], str | None],
    what: str,
    key: str,
) -> Verdict:
    """`step`'s message names the `what` that `made_by` made: in the approve run, and in
    the step's own run (where the grader gave the step its input)."""
    if evidence.workflow.state_of(step) is None:
        return not_met(requirement, evidence.workflow.missing(step) + ".")
    made = evidence.visit(evidence.approve, made_by)
    expected = name_of(made.output) if made and made.exited else None
    own = evidence.own
    return combine(
        requirement,
        [
            message_judgment(
                evidence.approve, step, evidence.visit(evidence.approve, step), expected, what, key
            ),
            message_judgment(
                own, step, evidence.visit(own, step), name_of(own.inputs.get(step.key)), what, key
            ),
        ],
    )


def check_merge(evidence: Evidence) -> Verdict:
    return check_message_names(
        evidence, MERGE_USES_BRANCH, MERGE, CREATE_BRANCH, branch_of, "branch", BRANCH
    )


def release_judgment(evidence: Evidence, outcome: Outcome) -> Judgment:
    visit = evidence.visit(outcome, RELEASE_STEP)
    label = outcome.label
    if visit is None:
        return Judgment(NO_EVIDENCE, "Create Release never ran", label)
    calls = [c for c in outcome.run.calls if c.state == visit.name]
    if calls and calls[-1].error:
        return Judgment(NOT_MET, calls[-1].failure(), label)
    if not visit.exited:
        return Judgment(NO_EVIDENCE, "Create Release did not finish", label)
    name = release_name_of(visit.output)
    if name and name != release_name_of(visit.input):
        return Judgment(MET, f"it added the release {name}", label)
    release = visit.output.get(RELEASE) if isinstance(visit.output, dict) else None
    if release is not None:
        return Judgment(
            NOT_MET,
            f'its "{RELEASE}" is {quoted(release)}, not an object with a new, non-empty "name"',
            label,
        )
    keys = sorted(visit.output) if isinstance(visit.output, dict) else []
    return Judgment(
        NOT_MET, f'its output has no "{RELEASE}" (it has: {", ".join(keys) or "nothing"})', label
    )


def check_release(evidence: Evidence) -> Verdict:
    if evidence.workflow.state_of(RELEASE_STEP) is None:
        return not_met(RELEASE_CREATED, evidence.workflow.missing(RELEASE_STEP) + ".")
    return combine(
        RELEASE_CREATED, [release_judgment(evidence, o) for o in (evidence.approve, evidence.own)]
    )


def check_ops(evidence: Evidence) -> Verdict:
    return check_message_names(
        evidence, OPS_MESSAGE, NOTIFY_OPS, RELEASE_STEP, release_name_of, "release", RELEASE
    )


# The reject path -----------------------------------------------------------------------


def check_reject(evidence: Evidence) -> Verdict:
    outcome = evidence.reject
    problem = decision_problem(evidence, outcome)
    if problem:
        return not_met(REJECT_FAILS, problem + ".")
    run: History = outcome.run
    after_review = [MERGE, RELEASE_STEP, NOTIFY_OPS]
    ran = [
        step.title
        for step in after_review
        if evidence.visit(outcome, step) is not None or run.calls_of(evidence.function(step))
    ]
    if ran:
        return not_met(REJECT_FAILS, f"rejected, yet it ran {', '.join(ran)} ({run.path_text()}).")
    told = [step.title for step in (MERGE, NOTIFY_OPS) if outcome.sent(step)]
    if told:
        return not_met(REJECT_FAILS, f"rejected, yet {', '.join(told)} sent a message.")
    last = run.visits[-1] if run.visits else None
    if run.status == "FAILED" and last is not None and last.type == "Fail":
        return met(REJECT_FAILS, f"FAILED in {last.name}, with nothing merged or released.")
    call = review_call(evidence, outcome)
    if call is not None and call.answer is None and call.error is None:
        return not_met(
            REJECT_FAILS,
            "the approve Lambda returned, but the review still waits: it never handed the "
            "token back (SendTaskSuccess, or SendTaskFailure).",
        )
    if run.status == "FAILED":
        return not_met(
            REJECT_FAILS,
            f"FAILED, but not in a Fail state: {run.describe_end()} (catch the error into a "
            "state of Type Fail).",
        )
    return not_met(REJECT_FAILS, f"rejected, yet {run.describe_end()}.")


# Every Lambda ---------------------------------------------------------------------------


def check_returns_payload(evidence: Evidence) -> Verdict:
    outcomes = [evidence.approve, evidence.reject, evidence.own]
    problems, checked = [], 0
    for step in [*STEPS, APPROVE]:
        pairs: list[tuple[str, Any, Any]] = []
        errors: list[str] = []
        for outcome in outcomes:
            if step is APPROVE:
                if outcome.approve_event is not None and outcome.approve_error is None:
                    pairs.append((outcome.label, outcome.approve_event, outcome.approve_result))
                elif outcome.approve_error:
                    errors.append(f"{outcome.approve_error} ({outcome.label})")
                continue
            for call in outcome.run.calls_of(evidence.function(step)) if outcome.run else []:
                if call.has_returned:
                    pairs.append((outcome.label, call.received, call.returned))
                elif call.error:
                    errors.append(f"{call.failure()} ({outcome.label})")
        checked += len(pairs)
        if not pairs:
            if step is not APPROVE and evidence.workflow.state_of(step) is None:
                why = evidence.workflow.missing(step)
            else:
                why = errors[-1] if errors else "it never ran"
            problems.append(f"{step.title} never returned: {why}")
            continue
        for label, received, returned in pairs:
            if not contains(returned, received):
                lost = ", ".join(dropped_keys(returned, received))
                problems.append(f"{step.title} dropped or changed {lost} ({label})")
                break
    if problems:
        return not_met(RETURNS_PAYLOAD, "; ".join(problems) + ".")
    return met(RETURNS_PAYLOAD, f"all 7 Lambdas returned what they received ({checked} results).")


CHECKS = [
    check_reaches_review,
    check_reviewers_message,
    check_approve_succeeds,
    check_merge,
    check_release,
    check_ops,
    check_reject,
    check_returns_payload,
]
