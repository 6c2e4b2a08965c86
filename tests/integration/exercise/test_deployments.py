"""What was deployed is remembered: the exercise redeploys only what changed or is gone."""

from __future__ import annotations

from sfnlab.deploy import remembered
from sfnlab.deploy.resources import DeployRequest
from sfnlab.exercise import DEFAULT_PREFIX, STEPS
from sfnlab.support.aws import client


def test_the_kits_deployment_is_recorded_with_its_fingerprint(localstack, deployment):
    remembered.remember(localstack, deployment.request)
    [kit] = [
        r for r in remembered.recorded(localstack) if r.request.state_machine_name == "SolveIssue"
    ]
    assert kit.request == DeployRequest()
    assert kit.fingerprint == remembered.fingerprint(localstack, DeployRequest())


def test_an_unchanged_deployment_is_not_deployed_again(localstack, deployment):
    remembered.ensure_deployed(localstack)
    assert remembered.ensure_deployed(localstack) is False


def test_a_function_deleted_by_hand_is_deployed_again(localstack, deployment):
    name = STEPS[-1].function_name(DEFAULT_PREFIX)
    lam = client("lambda", localstack)
    lam.delete_function(FunctionName=name)
    assert remembered.ensure_deployed(localstack) is True
    assert lam.get_function(FunctionName=name)["Configuration"]["State"] == "Active"


def test_another_source_changes_the_fingerprint(localstack, tmp_path):
    (tmp_path / "definitions").mkdir()
    (tmp_path / "lambdas").mkdir()
    (tmp_path / "definitions" / "SolveIssueStepFunction.json").write_text("{}")
    other = DeployRequest(tmp_path, "x-", "X", 60, None, 30)
    before = remembered.fingerprint(localstack, other)
    (tmp_path / "lambdas" / "create_code.py").write_text("def lambda_handler(e, c): return e\n")
    assert remembered.fingerprint(localstack, other) != before
