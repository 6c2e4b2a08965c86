"""`sfnlab test-state` and `sfnlab.workflow.test_state`: one state of the exercise tested
alone with TestState on the embedded LocalStack, its data flow read step by step."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from sfnlab.cli import main
from sfnlab.deploy.definition import load_template
from sfnlab.errors import DefinitionError, LearnerError
from sfnlab.exercise import DEFINITION_FILE, INITIAL_EVENT
from sfnlab.settings import PROJECT_ROOT
from sfnlab.workflow.test_state import test_state

BRANCHED = {"issue": {"id": "ISSUE-7", "title": "login fails"}, "branch": "fix/issue-7"}
APPROVED = {"approved": True, "reviewer": "ana", "summary": "Approved by ana: fine"}
REJECTED = {**APPROVED, "approved": False, "summary": "Rejected by ana: too risky"}


def definition_without(tmp_path: Path, state: str, field: str) -> Path:
    """A learner's copy of the exercise's definition with one field of a state removed."""
    definition = load_template(PROJECT_ROOT / DEFINITION_FILE)
    del definition["States"][state][field]
    copy = tmp_path / "SolveIssueStepFunction.json"
    copy.write_text(json.dumps(definition, indent=2))
    return copy


def test_notify_reviewers_with_a_mocked_decision_shows_each_step_in_order(localstack):
    tested = test_state(localstack, "NotifyReviewers", input=BRANCHED, mock_result=APPROVED)
    assert [step.name for step in tested.steps] == [
        "input",
        "afterInputPath",
        "afterParameters",
        "result",
        "afterResultSelector",
        "afterResultPath",
    ]
    assert tested.step("input").value == BRANCHED
    payload = tested.step("afterParameters").value["Payload"]
    assert payload["input"] == BRANCHED and payload["taskToken"]
    assert tested.step("result").value == APPROVED
    assert tested.step("afterResultPath").setting == "ResultPath: $.review"
    assert tested.output == {**BRANCHED, "review": APPROVED}
    assert (tested.status, tested.next_state) == ("SUCCEEDED", "ReviewDecision")
    text = tested.text()
    titles = ["Input", "After InputPath", "After Parameters", "Result (mocked)", "Output"]
    positions = [text.index(f"\n{title}") for title in titles]
    assert positions == sorted(positions)
    assert "After ResultPath  [ResultPath: $.review]" in text
    assert text.endswith("Status: SUCCEEDED\nNext state: ReviewDecision")


def test_without_result_path_the_decision_replaces_the_input(localstack, tmp_path):
    """The mistake TestState shows at once: the branch and issue are gone."""
    broken = definition_without(tmp_path, "NotifyReviewers", "ResultPath")
    tested = test_state(
        localstack, "NotifyReviewers", definition=broken, input=BRANCHED, mock_result=APPROVED
    )
    assert tested.output == APPROVED
    assert tested.step("afterResultPath").setting == "ResultPath: not set, so $"


def test_a_few_steps_read_alone_are_those_of_the_whole_text(localstack):
    tested = test_state(localstack, "NotifyReviewers", input=BRANCHED, mock_result=APPROVED)
    whole = tested.text()
    assert tested.step_names()[-1] == "output"
    for name in tested.step_names():
        block = tested.text(name)
        assert f"\n\n{block}\n\n" in whole, name
    few = tested.text("afterResultPath", "result", "output")
    assert few.split("\n\n") == [
        tested.text("afterResultPath"),
        tested.text("result"),
        tested.text("output"),
    ]
    assert few.startswith("After ResultPath  [ResultPath: $.review]\n  {")
    assert tested.text("result").startswith("Result (mocked)\n")


@pytest.mark.parametrize("name", ["afterParamters", "afterParameters", "output", ""])
def test_a_step_the_test_did_not_show_is_named_with_those_it_did(localstack, name):
    """A Fail state has no Parameters step and no output; a misspelt name is no step."""
    tested = test_state(localstack, "ReviewRejected", input={**BRANCHED, "review": REJECTED})
    with pytest.raises(LearnerError) as refused:
        tested.text("input", name)
    assert f"The test of ReviewRejected shows no step {name!r}." in str(refused.value)
    assert refused.value.hint == "Its steps: input, afterInputPath."


def test_a_definition_held_in_python_is_tested_without_a_file(localstack):
    """A changed copy of the template, placeholders and all: the Choice of a learner who
    compares the decision with the text "true", where the decision is JSON's true."""
    definition = load_template(PROJECT_ROOT / DEFINITION_FILE)
    rule = definition["States"]["ReviewDecision"]["Choices"][0]
    del rule["BooleanEquals"]
    rule["StringEquals"] = "true"
    before = json.dumps(definition)
    handed_on = test_state(
        localstack, "NotifyReviewers", definition=definition, input=BRANCHED, mock_result=APPROVED
    )
    called = handed_on.step("afterParameters").value["FunctionName"]
    assert called.endswith(":function:sfnlab-notify-reviewers")
    assert handed_on.output["review"]["approved"] is True
    chosen = test_state(localstack, "ReviewDecision", definition=definition, input=handed_on.output)
    # A comparison of values of different types is false (no error): the Default wins.
    assert (chosen.status, chosen.next_state) == ("SUCCEEDED", "ReviewRejected")
    assert json.dumps(definition) == before  # the learner's copy is left as it was
    del rule["StringEquals"]
    rule["BooleanEquals"] = True
    fixed = test_state(localstack, "ReviewDecision", definition=definition, input=handed_on.output)
    assert fixed.next_state == "MergeToMaster"


def test_a_definition_held_in_python_is_named_as_such_in_a_mistake(localstack):
    definition = load_template(PROJECT_ROOT / DEFINITION_FILE)
    with pytest.raises(LearnerError, match=r"^The definition has no state named 'Merge'"):
        test_state(localstack, "Merge", definition=definition)
    definition["States"]["CreateCode"]["Parameters"]["FunctionName"] = "${MyOwnArn}"
    with pytest.raises(DefinitionError, match=r"^The definition uses \$\{MyOwnArn\}"):
        test_state(localstack, "CreateCode", definition=definition)
    with pytest.raises(DefinitionError, match=r'^The definition has no "States" object'):
        test_state(localstack, "CreateCode", definition={"StartAt": "CreateCode"})


@pytest.mark.parametrize("definition", [["StartAt"], 42, b"{}"], ids=["list", "int", "bytes"])
def test_a_definition_neither_a_path_nor_a_dict_is_refused(localstack, definition):
    with pytest.raises(DefinitionError, match="is a file's path or a state machine's dict"):
        test_state(localstack, "ReviewDecision", definition=definition)


def test_a_definition_file_may_be_named_by_its_path_as_text(localstack):
    tested = test_state(
        localstack, "ReviewDecision", definition=str(PROJECT_ROOT / DEFINITION_FILE),
        input={"review": APPROVED},
    )  # fmt: skip
    assert tested.next_state == "MergeToMaster"


@pytest.mark.parametrize(
    ("decision", "next_state"),
    [(APPROVED, "MergeToMaster"), (REJECTED, "ReviewRejected")],
    ids=["approved", "rejected"],
)
def test_the_review_decision_goes_where_the_decision_says(localstack, decision, next_state):
    state_input = {**BRANCHED, "review": decision}
    tested = test_state(localstack, "ReviewDecision", input=state_input)
    assert (tested.status, tested.next_state) == ("SUCCEEDED", next_state)
    assert [(s.name, s.value) for s in tested.steps] == [
        ("input", state_input),
        ("afterInputPath", state_input),
    ]
    assert tested.output == state_input


def test_a_rejected_review_fails_with_the_reviewers_summary(localstack):
    tested = test_state(localstack, "ReviewRejected", input={**BRANCHED, "review": REJECTED})
    assert (tested.status, tested.error, tested.cause) == (
        "FAILED",
        "ReviewRejected",
        "Rejected by ana: too risky",
    )
    assert tested.next_state is None and not tested.has_output
    assert "Error: ReviewRejected (Rejected by ana: too risky)" in tested.text()
    assert tested.text().endswith("Next state: (none: the execution would fail here)")


def test_a_review_that_times_out_is_caught_and_goes_to_review_timed_out(localstack):
    tested = test_state(
        localstack,
        "NotifyReviewers",
        input=BRANCHED,
        mock_error=("States.Timeout", "nobody decided"),
    )
    assert (tested.status, tested.next_state) == ("CAUGHT_ERROR", "ReviewTimedOut")
    assert tested.output == {
        **BRANCHED,
        "timeout": {"Error": "States.Timeout", "Cause": "nobody decided"},
    }
    assert tested.error_details == {"catchIndex": 0}
    placed = tested.step("afterResultPath")
    assert (placed.title, placed.setting) == (
        "After the Catch's ResultPath",
        "Catch[0] ResultPath: $.timeout",
    )


def test_an_error_its_retry_matches_would_be_tried_again(localstack):
    tested = test_state(
        localstack, "NotifyReviewers", input=BRANCHED, mock_error=("InboxUnreachable", "down")
    )
    assert tested.status == "RETRIABLE" and tested.next_state is None
    assert tested.error_details == {"retryIndex": 1, "retryBackoffIntervalSeconds": 1}
    assert tested.text().endswith(
        "Next state: (none: its Retry would run NotifyReviewers again after 1 s)"
    )


def test_an_unmocked_task_calls_the_deployed_lambda(localstack, deployment):
    event = json.loads(INITIAL_EVENT.read_text())
    tested = test_state(localstack, "CreateCode", input=event)
    assert (tested.status, tested.next_state) == ("SUCCEEDED", "CreateBranch")
    assert tested.step("result").value["StatusCode"] == 200
    assert tested.output == {**event, "code": tested.output["code"]}
    assert tested.output["code"]["commit"]
    assert not tested.mocked and "(mocked)" not in tested.text()


def test_an_undeployed_function_is_named_with_what_to_do(localstack):
    elsewhere = replace(localstack, account_id="123456789012")  # nothing deployed there
    tested = test_state(elsewhere, "CreateCode", input={"issue": {"id": "I-1"}})
    assert tested.status == "FAILED" and tested.error == "Lambda.ResourceNotFoundException"
    assert "run `sfnlab deploy` first, or mock its result" in tested.text()
    sent = tested.step("afterParameters").value["FunctionName"]
    assert sent == "arn:aws:lambda:us-east-1:123456789012:function:sfnlab-create-code"


def test_a_json_ata_definition_shows_its_arguments_and_output(localstack):
    tested = test_state(
        localstack,
        "NotifyReviewers",
        definition=PROJECT_ROOT / "definitions" / "SolveIssueStepFunctionJSONata.json",
        input=BRANCHED,
        mock_result=APPROVED,
    )
    assert [step.name for step in tested.steps] == ["input", "afterArguments", "result"]
    assert tested.output == {**BRANCHED, "review": APPROVED}
    assert tested.output_setting.startswith("Output: {% $merge(")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"state": "NotifyReviwers"}, "has no state named 'NotifyReviwers'. Did you mean "),
        ({"state": "NotifyReviewers"}, "waits for a task token"),
        ({"state": "ReviewDecision", "mock_result": {}}, "only a Task's result can be mocked"),
        (
            {"state": "CreateCode", "mock_result": {}, "mock_error": ("E", "")},
            "not both",
        ),
        (
            {"state": "CreateCode", "mock_result": {"Payload": {"a": 1}}},
            "Field 'Payload' must be a string",
        ),
    ],
    ids=["misspelt", "token-unmocked", "mocked-choice", "both-mocks", "invalid-mock"],
)
def test_what_cannot_be_tested_is_one_paragraph_saying_why(localstack, arguments, message):
    with pytest.raises(LearnerError) as refused:
        test_state(localstack, **arguments)
    assert message in str(refused.value)


def test_a_definition_with_a_placeholder_deploy_does_not_fill_is_refused(localstack, tmp_path):
    definition = load_template(PROJECT_ROOT / DEFINITION_FILE)
    definition["States"]["CreateCode"]["Parameters"]["FunctionName"] = "${MyOwnArn}"
    own = tmp_path / "own.json"
    own.write_text(json.dumps(definition))
    with pytest.raises(DefinitionError, match=r"uses \$\{MyOwnArn\}"):
        test_state(localstack, "ReviewDecision", definition=own)


@pytest.fixture
def sfnlab_cli(localstack, monkeypatch):
    monkeypatch.setenv("SFNLAB_ENDPOINT", localstack.endpoint)
    monkeypatch.setenv("SFNLAB_STATE_DIR", str(localstack.state_dir))

    def run(*arguments: str):
        return CliRunner().invoke(main, ["test-state", *arguments])

    return run


def test_the_command_reads_input_and_mock_from_text_or_files(sfnlab_cli, tmp_path):
    (tmp_path / "input.json").write_text(json.dumps(BRANCHED))
    result = sfnlab_cli(
        "NotifyReviewers", "--input", f"@{tmp_path / 'input.json'}", "--mock-result",
        json.dumps(REJECTED),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.startswith("NotifyReviewers (Task state)\n\nInput\n")
    assert "Result (mocked)" in result.output and "Next state: ReviewDecision" in result.output
    as_json = sfnlab_cli("ReviewDecision", "--input", json.dumps({"review": REJECTED}), "--json")
    assert json.loads(as_json.output)["next_state"] == "ReviewRejected"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["ReviewDecision", "--input", "{approved: true}"], "--input is not JSON: Expecting"),
        (["ReviewDecision", "--input", "@no-such-file.json"], "cannot be read (No such file"),
        (["NotifyReviewers", "--mock-result", "yes"], "--mock-result is not JSON"),
        (["Nope"], "has no state named 'Nope'"),
        (["ReviewDecision", "--definition", "no-such.json"], "Cannot read the state machine"),
    ],
)
def test_the_commands_mistakes_are_one_paragraph_and_exit_1(sfnlab_cli, arguments, message):
    result = sfnlab_cli(*arguments)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_the_mock_error_option_sends_an_error_with_its_cause(sfnlab_cli):
    result = sfnlab_cli(
        "NotifyReviewers", "--mock-error", "States.Timeout", "--mock-cause", "nobody came"
    )
    assert result.exit_code == 0, result.output
    assert "Status: CAUGHT_ERROR" in result.output
    assert "Error: States.Timeout (nobody came)" in result.output
    assert "Next state: ReviewTimedOut" in result.output
