"""The whole exercise in one go: what `scripts/run_exercise.sh` runs.

Bring LocalStack and the inbox up, deploy, start an execution, wait for the reviewers'
notification, approve (or reject) with its token, wait for the end, and report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sfnlab import approval, lifecycle
from sfnlab import execution as executions
from sfnlab.config import Settings, load_settings
from sfnlab.deploy import deploy
from sfnlab.inbox import InboxClient
from sfnlab.progress import step


@dataclass
class ExerciseResult:
    approve: bool
    execution: executions.Execution
    reviewers_message: Any
    ops_message: Any
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def expected_status(self) -> str:
        return "SUCCEEDED" if self.approve else "FAILED"

    @property
    def as_expected(self) -> bool:
        """Approve ends SUCCEEDED; reject ends FAILED in the ReviewRejected Fail state."""
        if self.execution.status != self.expected_status:
            return False
        return self.approve or self.execution.error == "ReviewRejected"


def message_for(settings: Settings, channel: str, field_name: str, value: Any) -> Any:
    """The newest JSON message on `channel` whose `field_name` is `value`."""
    for request in InboxClient(settings.inbox_url).requests(channel=channel, limit=50):
        if isinstance(request.json, dict) and request.json.get(field_name) == value:
            return request.json
    return None


def run_exercise(settings: Settings | None = None, approve: bool = True) -> ExerciseResult:
    """Run the exercise end to end, approving (or rejecting) the review."""
    settings = settings or load_settings()
    timings: dict[str, float] = {}
    with step("Bringing LocalStack and the inbox up") as watch:
        lifecycle.up(settings)
    timings["up"] = watch.seconds
    with step("Deploying the SolveIssue state machine and its Lambdas") as watch:
        deploy(settings)
    timings["deploy"] = watch.seconds
    with step("Starting an execution with test-events/initialEventTest.json") as watch:
        started = executions.start(settings)
    timings["start"] = watch.seconds
    with step("Waiting for the reviewers' notification with the task token") as watch:
        review = approval.find_review(settings, started.name, wait=True)
    timings["token"] = watch.seconds
    verb = "Approving" if approve else "Rejecting"
    with step(f"{verb} with the approve Lambda and the token") as watch:
        approval.decide(settings, approve, token=review.token, execution=started.name)
    timings["decide"] = watch.seconds
    with step("Waiting for the execution to end") as watch:
        ended = executions.wait_for_end(settings, started.arn)
    timings["end"] = watch.seconds
    release = ((ended.output or {}).get("release") or {}).get("name")
    return ExerciseResult(
        approve=approve,
        execution=ended,
        reviewers_message=message_for(settings, "reviewers", "execution", started.name),
        ops_message=message_for(settings, "ops", "release", release) if release else None,
        timings=timings,
    )
