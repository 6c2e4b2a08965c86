"""The state machine template: valid JSON, placeholders filled in with their types."""

from __future__ import annotations

import json

import pytest

from sfnlab.deploy.definition import load_template, placeholders, render
from sfnlab.deploy.functions import build_zip, code_sha256
from sfnlab.errors import DefinitionError
from sfnlab.exercise import DEFINITION_FILE, STEPS
from sfnlab.settings import PROJECT_ROOT


def test_whole_placeholder_takes_the_type_of_its_value():
    template = {"TimeoutSeconds": "${Timeout}", "Resource": "arn:${Region}:x"}
    assert render(template, {"Timeout": 60, "Region": "eu"}) == {
        "TimeoutSeconds": 60,
        "Resource": "arn:eu:x",
    }


def test_a_placeholder_given_none_drops_its_key():
    assert render({"HeartbeatSeconds": "${Heartbeat}", "a": 1}, {"Heartbeat": None}) == {"a": 1}


def test_unknown_placeholders_are_named():
    with pytest.raises(DefinitionError, match=r"\$\{Typo\}.*which deploy does not fill in"):
        render({"x": "${Typo}"}, {"Known": 1})


def test_broken_json_says_where(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "StartAt": "A",\n  "States": {}\n  "Comment": "x"\n}\n')
    with pytest.raises(DefinitionError, match="line 4, column 3"):
        load_template(path)


def test_the_kits_definition_uses_exactly_what_deploy_fills_in():
    template = load_template(PROJECT_ROOT / DEFINITION_FILE)
    expected = {f"{step.key}FunctionArn" for step in STEPS}
    assert placeholders(template) == expected | {"ReviewTimeoutSeconds", "ReviewHeartbeatSeconds"}


def test_the_kits_definition_has_the_exercise_shape():
    states = load_template(PROJECT_ROOT / DEFINITION_FILE)["States"]
    review = states["NotifyReviewers"]
    assert review["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    assert review["Parameters"]["Payload"]["taskToken.$"] == "$$.Task.Token"
    assert states["ReviewDecision"]["Type"] == "Choice"
    assert states["ReviewRejected"]["Type"] == "Fail"
    assert states["ReviewTimedOut"]["Type"] == "Fail"
    for name in ("CreateCode", "CreateBranch", "MergeToMaster", "CreateRelease", "NotifyOps"):
        assert "Lambda.ServiceException" in json.dumps(states[name]["Retry"])


def test_the_same_code_zips_to_the_same_bytes(tmp_path):
    (tmp_path / "a.py").write_text("A = 1\n")
    (tmp_path / "b.py").write_text("B = 2\n")
    first = build_zip(tmp_path)
    (tmp_path / "a.py").touch()  # a new modification time changes nothing
    assert build_zip(tmp_path) == first
    (tmp_path / "a.py").write_text("A = 2\n")
    assert code_sha256(build_zip(tmp_path)) != code_sha256(first)


def test_a_missing_definition_file_is_named_in_words(tmp_path):
    missing = tmp_path / "SolveIssue.json"
    with pytest.raises(DefinitionError) as refused:
        load_template(missing)
    assert str(refused.value) == (
        f"Cannot read the state machine definition {missing}: No such file or directory."
    )


def tasks(definition: dict) -> dict[str, dict]:
    """Every Task state of a definition by name, those of Parallel branches included."""
    found = {}
    for name, state in definition["States"].items():
        if state["Type"] == "Task":
            found[name] = state
        for branch in state.get("Branches", []):
            found.update(tasks(branch))
    return found


@pytest.mark.parametrize(
    "definition_file", sorted((PROJECT_ROOT / "definitions").glob("*.json")), ids=lambda p: p.stem
)
def test_every_task_of_every_definition_retries_what_the_jsonpath_one_retries(definition_file):
    """The README promises both languages' SolveIssue (and the two-reviewers workflow) the
    same Retry rules: Lambda's own transient errors, and InboxUnreachable after 1, 2, 4, 8 s."""
    reference = load_template(PROJECT_ROOT / DEFINITION_FILE)
    expected = reference["States"]["CreateCode"]["Retry"]
    assert [rule["ErrorEquals"] for rule in expected][-1] == ["InboxUnreachable"]
    found = tasks(load_template(definition_file))
    assert found
    for name, state in found.items():
        assert state.get("Retry") == expected, name
