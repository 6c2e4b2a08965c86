"""The exercise's requirements: each defined once here, judged on its own in `checks.py`.

The ids are what reports, JUnit cases and the class summary are keyed by; the hints say
what a solution does to meet each (the full contract is `starter/README.md`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Requirement:
    id: str
    title: str
    points: int
    hint: str  # what a solution does to meet it, for the feedback line


DEFINITION_VALID = Requirement(
    "definition_valid",
    "The state machine definition is valid",
    10,
    "definitions/SolveIssueStepFunction.json is UTF-8 JSON that Step Functions accepts, "
    "using the ${...FunctionArn} placeholders for the Lambdas.",
)
REACHES_REVIEW = Requirement(
    "reaches_review",
    "The execution reaches the reviewers' step and waits for a task token",
    10,
    "Create Code and Create Branch run, then a Task with Resource "
    "arn:aws:states:::lambda:invoke.waitForTaskToken invokes Notify Reviewers.",
)
REVIEWERS_MESSAGE = Requirement(
    "reviewers_message",
    "The reviewers' message contains the branch name and a usable task token",
    15,
    "Notify Reviewers POSTs to its INBOX_URL a JSON message with the branch name and the "
    "whole task token, each as a value of its own.",
)
APPROVE_SUCCEEDS = Requirement(
    "approve_succeeds",
    "Approving with the approve Lambda ends the execution SUCCEEDED",
    15,
    "The approve Lambda sends the decision with SendTaskSuccess; on approval the workflow "
    "goes on to merge, release and notify Ops, and the execution succeeds.",
)
MERGE_USES_BRANCH = Requirement(
    "merge_uses_branch",
    "Merge to master used the branch name",
    10,
    "Merge To Master takes the branch from the payload and names it in its message.",
)
RELEASE_CREATED = Requirement(
    "release_created",
    "A release was created",
    10,
    'Create Release adds "release" to the payload: an object with a non-empty "name".',
)
OPS_MESSAGE = Requirement(
    "ops_message",
    "The Ops message contains the release name",
    10,
    "Notify Ops POSTs to its INBOX_URL a JSON message naming the release from the payload.",
)
REJECT_FAILS = Requirement(
    "reject_fails",
    "Rejecting ends the execution FAILED in a Fail state, with nothing merged or released",
    10,
    "On rejection the workflow goes to a state of Type Fail without merging, releasing or "
    "notifying Ops.",
)
RETURNS_PAYLOAD = Requirement(
    "returns_payload",
    "Every Lambda returns at least the payload it received",
    10,
    "Each handler returns the event it received, unchanged, plus what it adds ({**event, ...} "
    "in Python, {...event, ...} in JavaScript), so later steps can use it.",
)

REQUIREMENTS = [
    DEFINITION_VALID,
    REACHES_REVIEW,
    REVIEWERS_MESSAGE,
    APPROVE_SUCCEEDS,
    MERGE_USES_BRANCH,
    RELEASE_CREATED,
    OPS_MESSAGE,
    REJECT_FAILS,
    RETURNS_PAYLOAD,
]
TOTAL_POINTS = sum(requirement.points for requirement in REQUIREMENTS)
BY_ID = {requirement.id: requirement for requirement in REQUIREMENTS}
