"""The checks of the notebooks' exercises: each runs the learner's answer against the real
thing (a deployed workflow, an execution, an outage) and prints ✓, or what is still wrong.

Each prints one verdict line, starting `✓` or `Not yet:`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from sfnlab.deploy.definition import load_template
from sfnlab.deploy.resources import deploy_definition, deploy_state_machine
from sfnlab.exercise import DEFINITION_FILE, TWO_REVIEWERS_FILE, TWO_REVIEWERS_MACHINE
from sfnlab.inbox.service import outage
from sfnlab.settings import PROJECT_ROOT, Settings
from sfnlab.support.aws import client
from sfnlab.workflow import approval, executions

MINE = "SolveIssueMine"  # notebook 7: the learner's JSONata workflow
SHORT_RETRY = "SolveIssueShortRetry"  # notebook 9: a colleague's Retry rule
# Notebook 9's colleague: fewer attempts that wait longer, capped.
COLLEAGUES_RULE = {
    "ErrorEquals": ["InboxUnreachable"],
    "IntervalSeconds": 1,
    "MaxAttempts": 3,
    "BackoffRate": 3,
    "MaxDelaySeconds": 2,
}
# Rules whose waits are known (leave out a field, and it has its default).
KNOWN_WAITS: list[tuple[dict, list[float]]] = [
    ({"ErrorEquals": ["X"]}, [1, 2, 4]),
    ({"ErrorEquals": ["X"], "MaxAttempts": 0}, []),
    ({"ErrorEquals": ["X"], "IntervalSeconds": 3, "BackoffRate": 1, "MaxAttempts": 2}, [3, 3]),
    (
        {"ErrorEquals": ["X"], "IntervalSeconds": 2, "MaxAttempts": 5, "MaxDelaySeconds": 10},
        [2, 4, 8, 10, 10],
    ),
]
# Seconds an observed wait may differ from the rule's: a busy machine delays Step
# Functions' timers; the rules above have already told right answers from wrong ones.
ALLOWED_DRIFT = 0.9


def verdict(passed: bool, good: str, wrong: str) -> None:
    print(f"✓ {good}" if passed else f"Not yet: {wrong}")


def check_approved_by(settings: Settings, definition: dict) -> None:
    """Notebook 7: deploy `definition` (the JSONata SolveIssue, changed) as SolveIssueMine,
    take the approve path, and say whether `approvedBy` reached the end."""
    deploy_definition(settings, MINE, definition, source="your definition")
    run = executions.start(settings, machine=MINE)
    review = approval.find_review(settings, run.name, wait=True)
    decision = approval.decide(settings, True, token=review.token, reviewer="bob")
    ended = executions.wait_for_end(settings, run.arn)
    approved_by = (ended.output or {}).get("approvedBy")
    verdict(
        ended.status == "SUCCEEDED" and approved_by == "bob",
        f"approvedBy is {approved_by} ({decision.summary})",
        f"the execution {ended.status}, approvedBy is {approved_by!r}"
        + (f": {ended.failure()}" if ended.failure() else ""),
    )


def check_is_alive(settings: Settings, is_alive: Callable[[str], bool]) -> None:
    """Notebook 8: try `is_alive` on four tokens of a two-reviewers execution whose first
    reviewer has decided, then check it decided nothing (the second review is still open)."""
    deploy_state_machine(settings, TWO_REVIEWERS_MACHINE, PROJECT_ROOT / TWO_REVIEWERS_FILE)
    run = executions.start(settings, machine=TWO_REVIEWERS_MACHINE)
    executions.wait_for_reviews(settings, run.arn, count=2)
    tokens = executions.history(settings, run.arn).tokens()
    approval.decide(settings, True, token=tokens["AskAna"], reviewer="ana")
    cases = {
        "Bob's token, his review still open": (tokens["AskBob"], True),
        "Ana's token, already used": (tokens["AskAna"], False),
        "a token never issued": (str(uuid.uuid4()), False),
        "a token too long to be one": ("x" * 2049, False),
    }
    wrong = [what for what, (token, alive) in cases.items() if is_alive(token) is not alive]
    sfn = client("stepfunctions", settings)
    try:  # is_alive must have left Bob's review open
        sfn.send_task_success(taskToken=tokens["AskBob"], output=json.dumps({"approved": True}))
    except sfn.exceptions.TaskTimedOut:
        wrong.append("Bob's review, which is_alive decided")
    verdict(
        not wrong,
        "is_alive tells the live token from the refused ones, and decides nothing",
        "wrong for: " + "; ".join(wrong),
    )


def check_retry_waits(settings: Settings, retry_waits: Callable[[dict], list[float]]) -> None:
    """Notebook 9: check `retry_waits(rule)` on rules whose waits are known, then against
    Step Functions itself: a copy of SolveIssue with the colleague's rule, run while the
    inbox is down, waits what `retry_waits` says, and gives up."""
    template = load_template(PROJECT_ROOT / DEFINITION_FILE)
    kits_rule = template["States"]["CreateCode"]["Retry"][-1]  # the inbox's: 1, 2, 4, 8 s
    wrong = [
        f"{rule} gave {retry_waits(rule)}, not {waits}"
        for rule, waits in [(kits_rule, [1, 2, 4, 8]), *KNOWN_WAITS]
        if [round(wait, 6) for wait in retry_waits(rule)] != waits
    ]
    if wrong:
        verdict(False, "", "; ".join(wrong))
        return
    template["States"]["CreateCode"]["Retry"][-1] = COLLEAGUES_RULE
    deploy_definition(settings, SHORT_RETRY, template, source="SolveIssue with the rule")
    predicted = retry_waits(COLLEAGUES_RULE)
    with outage(settings):  # down for longer than the colleague's rule waits
        run = executions.start(settings, machine=SHORT_RETRY)
        ended = executions.wait_for_end(settings, run.arn, timeout=sum(predicted) + 20)
    observed = executions.history(settings, run.arn).observed_waits("CreateCode")
    print(f"Step Functions waited {[round(w, 1) for w in observed]} s; it ended {ended.status}")
    same = len(observed) == len(predicted) and all(
        abs(seen - wait) <= ALLOWED_DRIFT for seen, wait in zip(observed, predicted, strict=True)
    )
    verdict(
        same and (ended.status, ended.error) == ("FAILED", "InboxUnreachable"),
        f"retry_waits knows the schedule: the colleague's rule gives up after "
        f"{sum(predicted):g} s, the kit's after {sum(retry_waits(kits_rule)):g} s",
        "Step Functions did not wait what retry_waits says"
        if not same
        else f"this run should have failed with InboxUnreachable ({ended.failure()})",
    )
