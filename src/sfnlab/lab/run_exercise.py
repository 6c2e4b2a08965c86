"""The whole exercise in one go: what `scripts/run_exercise.sh` runs.

Bring LocalStack and the inbox up, deploy, start an execution, wait for the reviewers'
notification, approve (or reject) with its token, wait for the end, and report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sfnlab.deploy import remembered
from sfnlab.exercise import LANGUAGES, PYTHON
from sfnlab.inbox import InboxClient
from sfnlab.lab import lifecycle
from sfnlab.settings import Settings
from sfnlab.support.progress import shown_path, step
from sfnlab.workflow import approval, executions
from sfnlab.workflow.graph import ExecutionGraph, graph

WIDTH = 72


@dataclass
class ExerciseResult:
    approve: bool
    execution: executions.Execution
    reviewers_message: Any
    ops_message: Any
    picture: ExecutionGraph
    picture_file: Path
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

    def report(self, picture_text: str) -> str:
        """The outcome, both messages and the workflow as it went: what the script prints."""
        found = self.execution
        lines = [rule("Outcome"), f"Execution {found.name}: {found.status}"]
        failure = found.failure()
        if failure:
            lines.append(f"  {failure}")
        lines += [rule("What the reviewers got (inbox channel: reviewers)")]
        lines.append(json.dumps(self.reviewers_message, indent=2, ensure_ascii=False))
        lines.append(rule("What Ops got (inbox channel: ops)"))
        if self.ops_message:
            lines.append(json.dumps(self.ops_message, indent=2, ensure_ascii=False))
        else:
            lines.append("(nothing: the release was never made)")
        lines += [rule("The workflow, as this execution went"), picture_text]
        lines.append(f"Open {shown_path(self.picture_file)} in a browser to see it drawn.")
        path = "approve" if self.approve else "reject"
        verdict = "as expected" if self.as_expected else f"NOT as expected ({self.expected_status})"
        lines.append(f"\nThe {path} path ended {verdict}.")
        return "\n".join(lines)


def rule(title: str) -> str:
    return f" {title} ".center(WIDTH, "─")


def message_for(settings: Settings, channel: str, field_name: str, value: Any) -> Any:
    """The newest JSON message on `channel` whose `field_name` is `value`."""
    for request in InboxClient(settings.inbox_url).requests(channel=channel, limit=50):
        if isinstance(request.json, dict) and request.json.get(field_name) == value:
            return request.json
    return None


def run_exercise(
    settings: Settings, approve: bool = True, language: str = PYTHON.name
) -> ExerciseResult:
    """Run the exercise end to end with the kit's Lambdas in `language`, approving (or
    rejecting) the review."""
    timings: dict[str, float] = {}
    with step("Bringing LocalStack and the inbox up") as watch:
        lifecycle.up(settings)
    timings["up"] = watch.seconds
    title = "" if language == PYTHON.name else f"{LANGUAGES[language].title} "
    with step(f"Deploying the SolveIssue state machine and its {title}Lambdas") as watch:
        remembered.ensure_deployed(settings, language)
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
    picture = graph(settings, ended.arn)
    return ExerciseResult(
        approve=approve,
        execution=ended,
        reviewers_message=message_for(settings, "reviewers", "execution", started.name),
        ops_message=message_for(settings, "ops", "release", release) if release else None,
        picture=picture,
        picture_file=picture.save(settings.state_dir / "graphs" / f"{ended.name}.html"),
        timings=timings,
    )
