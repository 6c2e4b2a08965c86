"""The grader's checks read a run's history: feedback names the step the learner must fix."""

from __future__ import annotations

import json

from sfnlab.deploy.definition import load_template, render_definition
from sfnlab.exercise import DEFINITION_FILE, STEPS
from sfnlab.grading.checks import Evidence, why_no_review
from sfnlab.grading.contract import random_run
from sfnlab.grading.scenarios import Outcome
from sfnlab.grading.workflow import Workflow
from sfnlab.settings import PROJECT_ROOT
from sfnlab.workflow.history import read_history

ARNS = {
    step.key: f"arn:aws:lambda:us-east-1:000000000000:function:{step.function_name()}"
    for step in STEPS
}


class Events:
    """A history as Step Functions records it: each event names the one before it."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def add(self, kind: str, **details) -> Events:
        number = len(self.events) + 1
        event = {"id": number, "previousEventId": number - 1, "type": kind, **details}
        self.events.append(event)
        return self

    def task_fails(self, state: str, step_key: str, error: str) -> Events:
        function = ARNS[step_key]
        self.add("TaskStateEntered", stateEnteredEventDetails={"name": state, "input": "{}"})
        parameters = {"FunctionName": function, "Payload": {}}
        self.add(
            "TaskScheduled",
            taskScheduledEventDetails={
                "resourceType": "lambda",
                "resource": "invoke",
                "parameters": json.dumps(parameters),
            },
        )
        self.add("TaskStarted", taskStartedEventDetails={"resourceType": "lambda"})
        cause = {"errorType": error, "errorMessage": f"TODO: write {step_key}"}
        self.add(
            "TaskFailed",
            taskFailedEventDetails={"error": error, "cause": json.dumps(cause)},
        )
        return self.add("TaskStateExited", stateExitedEventDetails={"name": state, "output": "{}"})


def test_the_step_own_run_names_the_review_step_not_the_last_failure():
    """Every step runs in the step's own run (each failure caught): with every Lambda still
    a TODO, the review never waited because Notify Reviewers failed, not Notify Ops."""
    template = load_template(PROJECT_ROOT / DEFINITION_FILE)
    workflow = Workflow.read(render_definition(template, ARNS, 60, None))
    run = Events()
    for step in STEPS:
        run.task_fails(step.key, step.key, "NotImplementedError")
    run.add("ExecutionSucceeded", executionSucceededEventDetails={"output": "{}"})
    own = Outcome("the step's own run", random_run(), read_history("arn", run.events))
    none = Outcome("the approve run", random_run())
    evidence = Evidence(workflow, none, none, own)
    assert why_no_review(evidence, own) == (
        "NotifyReviewers failed (NotImplementedError: TODO: write NotifyReviewers)"
    )
