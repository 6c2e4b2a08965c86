"""Deliberately broken solutions: the reference solution with one fault each.

Each is made afresh by copying the kit's own `definitions/` and `lambdas/` and changing
them; BREAKS says which requirements each must fail (and so, which it must pass).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sfnlab.config import PROJECT_ROOT
from sfnlab.grading import REQUIREMENTS

ALL = {requirement.id for requirement in REQUIREMENTS}


@dataclass(frozen=True)
class Break:
    name: str
    fails: set[str]
    apply: Callable[[Path], None]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new))


def edit_definition(folder: Path, change: Callable[[dict], None]) -> None:
    path = folder / "definitions" / "SolveIssueStepFunction.json"
    definition = json.loads(path.read_text())
    change(definition)
    path.write_text(json.dumps(definition, indent=2))


def invalid_json(folder: Path) -> None:
    edit(folder / "definitions" / "SolveIssueStepFunction.json", '"StartAt"', '"StartAt" ')
    edit(folder / "definitions" / "SolveIssueStepFunction.json", '"CreateCode",', '"CreateCode"')


def missing_lambda(folder: Path) -> None:
    (folder / "lambdas" / "create_release.py").unlink()


def syntax_error(folder: Path) -> None:
    edit(
        folder / "lambdas" / "notify_ops.py",
        "def deployment_request(event):",
        "def deployment_request(event)",
    )


def import_error(folder: Path) -> None:
    edit(folder / "lambdas" / "create_code.py", "import hashlib", "import hashlib\nimport requests")


def never_returns(folder: Path) -> None:
    edit(
        folder / "lambdas" / "merge_to_master.py",
        "    branch = event.get",
        "    while True:\n        pass\n    branch = event.get",
    )


def raises(folder: Path) -> None:
    edit(
        folder / "lambdas" / "create_branch.py",
        "    branch = branch_name(event)",
        "    raise RuntimeError('no branches today')",
    )


def never_waits(folder: Path) -> None:
    def plain_invoke(definition: dict) -> None:
        state = definition["States"]["NotifyReviewers"]
        state["Resource"] = "arn:aws:states:::lambda:invoke"
        state["Parameters"] = {
            "FunctionName": state["Parameters"]["FunctionName"],
            "Payload.$": "$",
        }

    edit_definition(folder, plain_invoke)


def reject_succeeds(folder: Path) -> None:
    def ignore_decision(definition: dict) -> None:
        definition["States"]["ReviewDecision"]["Default"] = "MergeToMaster"
        del definition["States"]["ReviewRejected"]

    edit_definition(folder, ignore_decision)


def ops_without_release(folder: Path) -> None:
    edit(
        folder / "lambdas" / "notify_ops.py",
        '"subject": f"Please deploy {release[\'name\']}",',
        '"subject": "Please deploy the new release",',
    )
    edit(
        folder / "lambdas" / "notify_ops.py",
        '"release": release["name"],',
        '"release": "the latest",',
    )


def drops_payload(folder: Path) -> None:
    edit(
        folder / "lambdas" / "create_release.py",
        'return {**event, "release": release}',
        'return {"release": release, "issue": event.get("issue")}',
    )


REVIEW_ON = {
    "reaches_review",
    "reviewers_message",
    "approve_succeeds",
    "merge_uses_branch",
    "release_created",
    "ops_message",
    "reject_fails",
}
BREAKS = [
    Break("invalid-json", ALL, invalid_json),
    Break("missing-lambda", {"approve_succeeds", "release_created", "ops_message"}, missing_lambda),
    Break("syntax-error", {"approve_succeeds", "ops_message"}, syntax_error),
    Break("import-error", ALL - {"definition_valid"}, import_error),
    Break(
        "never-returns",
        {"approve_succeeds", "merge_uses_branch", "release_created", "ops_message"},
        never_returns,
    ),
    Break("raises", REVIEW_ON, raises),
    Break("never-waits-for-review", REVIEW_ON, never_waits),
    Break("reject-succeeds", {"reject_fails"}, reject_succeeds),
    Break("ops-without-release", {"ops_message"}, ops_without_release),
    Break("drops-payload", {"returns_payload"}, drops_payload),
]


def make(breaking: Break, root: Path) -> Path:
    folder = root / breaking.name
    shutil.copytree(PROJECT_ROOT / "definitions", folder / "definitions")
    shutil.copytree(PROJECT_ROOT / "lambdas", folder / "lambdas")
    breaking.apply(folder)
    return folder
