"""The exercise's requirements, each judged on its own by what the solution does."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Requirement:
    id: str
    title: str
    points: int
    hint: str  # what a solution does to meet it, for the feedback line


REQUIREMENTS = [
    Requirement(
        "definition_valid",
        "The state machine definition is valid",
        10,
        "definitions/SolveIssueStepFunction.json must be JSON that Step Functions accepts, "
        "using the ${...FunctionArn} placeholders for the Lambdas.",
    ),
    Requirement(
        "reaches_review",
        "The execution reaches the reviewers' step and waits for a task token",
        10,
        "Create Code and Create Branch run, then a Task with Resource "
        "arn:aws:states:::lambda:invoke.waitForTaskToken invokes Notify Reviewers.",
    ),
    Requirement(
        "reviewers_message",
        "The reviewers' message contains the branch name and a usable task token",
        15,
        "Notify Reviewers POSTs to its INBOX_URL a message with the branch name and the "
        "token from $$.Task.Token.",
    ),
    Requirement(
        "approve_succeeds",
        "Approving with the approve Lambda ends the execution SUCCEEDED",
        15,
        "approve_step_with_token sends the decision with SendTaskSuccess; on approval the "
        "Choice goes on to merge, release and notify Ops, and the execution succeeds.",
    ),
    Requirement(
        "merge_uses_branch",
        "Merge to master used the branch name",
        10,
        "Merge To Master gets the branch name from the payload and names it in its request "
        "to the inbox.",
    ),
    Requirement(
        "release_created",
        "A release was created",
        10,
        "Create Release adds a release (with a name) to the payload it returns.",
    ),
    Requirement(
        "ops_message",
        "The Ops message contains the release name",
        10,
        "Notify Ops POSTs to its INBOX_URL a message naming the release Create Release made.",
    ),
    Requirement(
        "reject_fails",
        "Rejecting ends the execution FAILED in a Fail state",
        10,
        "On rejection the Choice leads to a state of Type Fail.",
    ),
    Requirement(
        "returns_payload",
        "Every Lambda returns at least the payload it received",
        10,
        "Each handler returns {**event, ...what it adds}, so later steps can use it all.",
    ),
]
TOTAL_POINTS = sum(requirement.points for requirement in REQUIREMENTS)
