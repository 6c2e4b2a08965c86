"""template.yaml: linted as AWS checks it, built for CloudFormation, refused where it cannot go."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from click.testing import CliRunner

from sfnlab.cli import main
from sfnlab.deploy.definition import load_template, parse_template, render
from sfnlab.deploy.stack import check_review_times, deploy_stack
from sfnlab.deploy.stack_build import build, load_cloudformation_template, prepare_definition
from sfnlab.errors import DefinitionError, LearnerError
from sfnlab.exercise import DEFINITION_FILE, TEMPLATE_FILE
from sfnlab.settings import PROJECT_ROOT, load_settings

# I4010 asks for an architecture note (Metadata com.aws.cloudformation.Context): a
# convention of its own, not a check of the template.
LINT_IGNORED = ["I4010"]


def lint(text: str) -> list:
    from cfnlint.api import ManualArgs
    from cfnlint.api import lint as cfn_lint
    from cfnlint.helpers import REGIONS

    config = ManualArgs(regions=REGIONS, include_checks=["I"], ignore_checks=LINT_IGNORED)
    return cfn_lint(text, config=config)


def test_the_template_passes_cfn_lint_in_every_region_with_informational_checks():
    assert [str(match) for match in lint(TEMPLATE_FILE.read_text())] == []


def test_cfn_lint_finds_what_is_wrong_in_a_broken_copy():
    text = TEMPLATE_FILE.read_text().replace("Runtime: python3.12", "Runtime: python3.7", 1)
    text = text.replace("Handler: notify_ops.lambda_handler", "Handle: notify_ops.lambda_handler")
    rules = {match.rule.id for match in lint(text)}
    assert {"E2531", "E3002"} <= rules  # a retired runtime; a property SAM does not know


def values(timeout: int = 600, heartbeat: int = 60) -> dict:
    arns = {
        f"{step}FunctionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{step}"
        for step in (
            "CreateCode",
            "CreateBranch",
            "NotifyReviewers",
            "MergeToMaster",
            "CreateRelease",
            "NotifyOps",
        )
    }
    return {**arns, "ReviewTimeoutSeconds": timeout, "ReviewHeartbeatSeconds": heartbeat}


def substitute_as_cloudformation_does(text: str, substitutions: dict) -> str:
    """DefinitionSubstitutions: each ${Key} replaced by its value's text, nothing more."""
    for key, value in substitutions.items():
        text = text.replace("${" + key + "}", str(value))
    return text


def test_the_definition_file_through_cloudformation_is_what_the_kits_deploy_makes():
    """No build step: CloudFormation's text substitution of the file as it is."""
    text = (PROJECT_ROOT / DEFINITION_FILE).read_text()
    through_cloudformation = json.loads(substitute_as_cloudformation_does(text, values()))
    assert through_cloudformation == render(load_template(PROJECT_ROOT / DEFINITION_FILE), values())
    review = through_cloudformation["States"]["NotifyReviewers"]
    assert (review["TimeoutSeconds"], review["HeartbeatSeconds"]) == (600, 60)
    assert prepare_definition(text) == text  # nothing left for a build to do


def test_a_learners_quoted_numbers_are_prepared_for_cloudformation():
    """`"${ReviewTimeoutSeconds}"` (what the starter allows) would reach Step Functions as
    a string through CloudFormation; the build of a solution takes the quotes away."""
    text = (PROJECT_ROOT / DEFINITION_FILE).read_text()
    quoted = text.replace("${ReviewTimeoutSeconds}", '"${ReviewTimeoutSeconds}"')
    raw = json.loads(substitute_as_cloudformation_does(quoted, values()))
    assert raw["States"]["NotifyReviewers"]["TimeoutSeconds"] == "600"  # Step Functions: no
    prepared = json.loads(substitute_as_cloudformation_does(prepare_definition(quoted), values()))
    assert prepared["States"]["NotifyReviewers"]["TimeoutSeconds"] == 600
    assert load_template_text(quoted) == load_template(PROJECT_ROOT / DEFINITION_FILE)


def test_placeholders_inside_longer_text_stay_text():
    text = '{"Comment": "waits ${ReviewTimeoutSeconds} s", "Seconds": "${ReviewTimeoutSeconds}"}'
    prepared = substitute_as_cloudformation_does(
        prepare_definition(text), {"ReviewTimeoutSeconds": 5}
    )
    assert json.loads(prepared) == {"Comment": "waits 5 s", "Seconds": 5}


def test_short_forms_are_read_as_cloudformation_means_them():
    template = load_cloudformation_template(TEMPLATE_FILE)
    machine = template["Resources"]["SolveIssueStateMachine"]["Properties"]
    assert machine["Role"] == {"Fn::GetAtt": ["StatesRole", "Arn"]}
    assert machine["Name"] == {"Ref": "StateMachineName"}
    notify = template["Resources"]["NotifyReviewersFunction"]["Properties"]
    assert notify["FunctionName"] == {"Fn::Sub": "${NamePrefix}notify-reviewers"}


def test_build_copies_the_template_the_code_and_the_prepared_definition(tmp_path):
    built = build(tmp_path / "build")
    assert built.read_bytes() == TEMPLATE_FILE.read_bytes()
    lambdas = sorted(p.name for p in (PROJECT_ROOT / "lambdas").glob("*.py"))
    assert sorted(p.name for p in (built.parent / "lambdas").iterdir()) == lambdas
    definition = (built.parent / DEFINITION_FILE).read_text()
    assert '"TimeoutSeconds": ${ReviewTimeoutSeconds},' in definition
    assert definition == prepare_definition((PROJECT_ROOT / DEFINITION_FILE).read_text())


def test_build_again_replaces_the_last_build(tmp_path):
    build(tmp_path / "build")
    stale = tmp_path / "build" / "lambdas" / "removed_since.py"
    stale.write_text("x = 1\n")
    build(tmp_path / "build")
    assert not stale.exists()


def test_build_never_empties_a_folder_that_is_not_a_build(tmp_path):
    keep = tmp_path / "notes.txt"
    keep.write_text("mine")
    with pytest.raises(LearnerError, match="holds other files than a build"):
        build(tmp_path)
    assert keep.read_text() == "mine"


def solution(tmp_path, definition: str):
    (tmp_path / "definitions").mkdir(parents=True)
    (tmp_path / DEFINITION_FILE).write_text(definition)
    (tmp_path / "lambdas").mkdir()
    (tmp_path / "lambdas" / "create_code.py").write_text(
        "def lambda_handler(e, c):\n    return e\n"
    )
    return tmp_path


def test_build_names_placeholders_the_template_does_not_fill_in(tmp_path):
    source = solution(tmp_path / "s", '{"StartAt": "A", "States": {"A": {"Type": "${Typo}"}}}')
    with pytest.raises(DefinitionError, match=r"\$\{Typo\}, which the template"):
        build(tmp_path / "build", source)


def test_build_says_where_a_definition_is_not_json(tmp_path):
    source = solution(tmp_path / "s", '{"StartAt": "A",\n "States": {} "x": 1}')
    with pytest.raises(DefinitionError, match="line 2, column"):
        build(tmp_path / "build", source)


def test_build_without_code_says_so(tmp_path):
    source = solution(tmp_path / "s", (PROJECT_ROOT / DEFINITION_FILE).read_text())
    (source / "lambdas" / "create_code.py").unlink()
    with pytest.raises(LearnerError, match="No Python files"):
        build(tmp_path / "build", source)


def test_review_times_the_template_cannot_take_are_refused():
    with pytest.raises(LearnerError, match="always sets a review heartbeat"):
        check_review_times(600, None)
    with pytest.raises(LearnerError, match="must be shorter than the review timeout"):
        check_review_times(600, 600)
    assert check_review_times(600, 599) == 599


def test_the_stack_is_never_deployed_to_real_aws(monkeypatch):
    settings = replace(load_settings({}), target="aws")
    calls = []
    monkeypatch.setattr("sfnlab.deploy.stack.client", lambda *args: calls.append(args))
    with pytest.raises(LearnerError, match=r"LocalStack only.*sam deploy --guided"):
        deploy_stack(settings)
    assert calls == []


def test_a_stack_name_cloudformation_refuses_is_refused_first(monkeypatch):
    calls = []
    monkeypatch.setattr("sfnlab.deploy.stack.client", lambda *args: calls.append(args))
    with pytest.raises(LearnerError, match="cannot name a stack"):
        deploy_stack(load_settings({}), stack_name="my stack")
    assert calls == []


def test_build_only_writes_what_sam_deploy_takes(tmp_path, monkeypatch):
    monkeypatch.setenv("SFNLAB_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["deploy", "--stack", "--build-only"])
    assert result.exit_code == 0, result.output
    assert "sam deploy --guided --template-file stack/template.yaml" in result.output
    assert (tmp_path / "stack" / "template.yaml").read_bytes() == TEMPLATE_FILE.read_bytes()
    assert re.search(
        r"\$\{ReviewHeartbeatSeconds\}\s*,", (tmp_path / "stack" / DEFINITION_FILE).read_text()
    )


def load_template_text(text: str):
    return parse_template(text)


def test_a_bare_placeholder_reads_as_its_quoted_form_and_renders_as_a_number():
    template = parse_template('{"A": ${ReviewTimeoutSeconds}, "B": [${X}, "${X}"]}')
    assert template == {"A": "${ReviewTimeoutSeconds}", "B": ["${X}", "${X}"]}
    assert render(template, {"ReviewTimeoutSeconds": 5, "X": 7}) == {"A": 5, "B": [7, 7]}


def test_placeholders_inside_strings_are_left_as_text_even_next_to_escaped_quotes():
    text = r'{"C": "say \"${X}\" ${Y}", "D": "${X}"}'
    assert parse_template(text) == {"C": 'say "${X}" ${Y}', "D": "${X}"}


@pytest.mark.parametrize(
    "text",
    [
        '{"A": ${X}, "B": ${Y},\n "C": 1 "D": 2}',
        '{"A": 1,\n "B": [${X}, ${Y}] "C"}',
        '{"A": ${X}\n "B": 1}',
    ],
)
def test_a_json_error_is_placed_where_it_is_in_the_file(text, tmp_path):
    """Line and column count the file's own characters, bare placeholders included."""
    path = tmp_path / "definition.json"
    path.write_text(text)
    with pytest.raises(DefinitionError) as refused:
        load_template(path)
    try:
        json.loads(text.replace("${X}", "1111").replace("${Y}", "2222"))
    except json.JSONDecodeError as e:  # the same text with numbers of the same length
        assert f"at line {e.lineno}, column {e.colno}." in str(refused.value)
