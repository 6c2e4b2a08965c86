"""The JavaScript track on the embedded LocalStack: the kit's JavaScript Lambdas under the
same state machine, the exercise end to end with them (both paths, by the script), the
approve Lambda's refusals as the Python one words them, a learner's solution mixing both
languages, and the way back to Python."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from dataclasses import replace

import pytest

from sfnlab.deploy import remembered
from sfnlab.deploy.resources import deploy
from sfnlab.errors import LearnerError
from sfnlab.exercise import APPROVE, JAVASCRIPT, PYTHON, STEPS
from sfnlab.inbox import InboxClient
from sfnlab.settings import PROJECT_ROOT
from sfnlab.support.aws import client
from sfnlab.testing.nodejs_runtime_api import node_or_skip
from sfnlab.testing.waiting import review_waiting
from sfnlab.workflow import approval
from sfnlab.workflow import executions as execution

# The approve Lambda's refusals, run here again on the JavaScript approve Lambda (pytest
# runs what a module holds; `deployment` below is this module's).
from tests.integration.exercise.test_approve_lambda_refusals import (  # noqa: F401
    quick_review,
    test_a_comment_too_long_for_step_functions_leaves_the_token_usable,
    test_a_token_never_issued_is_explained,
    test_a_token_of_a_stopped_execution_is_explained,
    test_a_token_of_an_expired_review_is_explained,
    test_a_token_too_long_to_be_one_is_explained,
    test_a_token_used_twice_is_explained,
    test_an_approve_that_is_not_true_or_false_decides_nothing,
)


@pytest.fixture(scope="module")
def deployment(localstack):
    """The session's SolveIssue with the kit's JavaScript Lambdas; its Python ones again
    afterwards, as the session's other tests expect."""
    node_or_skip()
    deployed = deploy(localstack, language="javascript")
    remembered.remember(localstack, deployed.request)
    yield deployed
    remembered.remember(localstack, deploy(localstack).request)


def functions(settings, prefix: str = "sfnlab-") -> dict[str, tuple[str, str]]:
    """Each function of the exercise under `prefix`: (runtime, handler)."""
    lam = client("lambda", settings)
    found = {}
    for step in [*STEPS, APPROVE]:
        config = lam.get_function_configuration(FunctionName=step.function_name(prefix))
        found[step.key] = (config["Runtime"], config["Handler"])
    return found


def test_every_step_runs_its_javascript_handler_on_nodejs(localstack, deployment):
    assert functions(localstack) == {
        step.key: ("nodejs20.x", JAVASCRIPT.handler_setting(step)) for step in [*STEPS, APPROVE]
    }
    assert deployment.function_names == {step.key: step.function_name() for step in STEPS}
    link = client("lambda", localstack).get_function_configuration(
        FunctionName="sfnlab-approve-by-link"
    )
    assert link["Runtime"] == "python3.12"  # the kit's own approval page, in either track
    again = deploy(localstack, language="javascript")
    assert again.changed == []


@pytest.mark.parametrize(("flag", "outcome"), [((), "SUCCEEDED"), (("--reject",), "FAILED")])
def test_run_exercise_script_with_javascript_ends_as_expected(
    localstack, deployment, flag, outcome
):
    environment = {
        **os.environ,
        "SFNLAB_ENDPOINT": localstack.endpoint,
        "SFNLAB_INBOX_URL": localstack.inbox_url,
        "SFNLAB_STATE_DIR": str(localstack.state_dir),
    }
    result = subprocess.run(
        [str(PROJECT_ROOT / "scripts" / "run_exercise.sh"), "--javascript", *flag],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Deploying the SolveIssue state machine and its JavaScript Lambdas" in result.stderr
    assert f": {outcome}" in result.stdout and "ended as expected" in result.stdout
    if outcome == "SUCCEEDED":
        assert '"subject": "Please deploy release-' in result.stdout
    else:
        assert "ReviewRejected: Rejected by bob" in result.stdout
    assert functions(localstack)["CreateCode"] == ("nodejs20.x", "createCode.handler")


def test_the_reviewers_message_and_the_payload_are_the_python_ones(localstack, deployment):
    started = execution.start(localstack)
    review = approval.find_review(localstack, started.name, wait=True, timeout=30)
    message = next(
        request.json
        for request in InboxClient(localstack.inbox_url).requests(channel="reviewers")
        if request.json.get("execution") == started.name
    )
    assert message["branch"] == "feature/ISSUE-42-login-button-does-nothing"
    assert message["taskToken"] == review.token and "links" in message
    decided = approval.decide(localstack, True, token=review.token, reviewer="ana")
    assert decided.summary.startswith("Approved by ana")
    ended = execution.wait_for_end(localstack, started.arn)
    assert ended.status == "SUCCEEDED"
    assert set(ended.output) >= {"issue", "code", "branch", "review", "merge", "release"}
    assert ended.output["review"]["approved"] is True
    assert ended.output["opsNotified"]["release"] == ended.output["release"]["name"]


def mixed_solution(folder):
    """The kit's solution with Create Branch, Notify Ops and the approve Lambda in
    JavaScript, the other steps in Python."""
    shutil.copytree(PROJECT_ROOT / "definitions", folder / "definitions")
    shutil.copytree(PROJECT_ROOT / "lambdas", folder / "lambdas")
    for step in (STEPS[1], STEPS[-1], APPROVE):
        (folder / "lambdas" / PYTHON.file_name(step)).unlink()
        shutil.copy(PROJECT_ROOT / "lambdas-js" / JAVASCRIPT.file_name(step), folder / "lambdas")
    shutil.copy(PROJECT_ROOT / "lambdas-js" / "simulatedAction.js", folder / "lambdas")
    return folder


def test_a_solution_mixing_languages_deploys_each_step_in_its_own(localstack, tmp_path):
    node_or_skip()
    settings = replace(localstack, account_id="210987654321")  # beside the session's
    mine = deploy(
        settings,
        source=mixed_solution(tmp_path / "mixed"),
        prefix="mixed-",
        state_machine_name="MixedSolveIssue",
    )
    runtimes = {key: runtime for key, (runtime, _) in functions(settings, "mixed-").items()}
    assert runtimes == {
        "CreateCode": "python3.12",
        "CreateBranch": "nodejs20.x",
        "NotifyReviewers": "python3.12",
        "MergeToMaster": "python3.12",
        "CreateRelease": "python3.12",
        "NotifyOps": "nodejs20.x",
        "ApproveStepWithToken": "nodejs20.x",
    }
    started = execution.start(settings, machine="MixedSolveIssue")
    review = approval.find_review(settings, started.name, wait=True, timeout=30)
    approval.decide(settings, False, token=review.token, function_name=mine.approve_function)
    ended = execution.wait_for_end(settings, started.arn)
    assert (ended.status, ended.error) == ("FAILED", "ReviewRejected")


def test_a_solution_given_with_a_language_is_refused_saying_why(localstack, tmp_path):
    source = mixed_solution(tmp_path / "mixed")
    with pytest.raises(LearnerError, match="has no lambdas-js/ folder") as refused:
        deploy(localstack, source=source, language="javascript")
    assert "without --language" in refused.value.hint


def test_a_step_written_twice_is_refused_before_anything_is_deployed(localstack, tmp_path):
    source = mixed_solution(tmp_path / "mixed")
    shutil.copy(PROJECT_ROOT / "lambdas" / "notify_ops.py", source / "lambdas")
    settings = replace(localstack, account_id="210987654322")
    with pytest.raises(LearnerError, match=r"notify_ops\.py and lambdas/notifyOps\.js are both"):
        deploy(settings, source=source, prefix="twice-")
    assert client("lambda", settings).list_functions()["Functions"] == []


def test_a_heartbeat_keeps_the_review_and_logs_one_json_line(localstack, deployment):
    started = execution.start(localstack)
    token = review_waiting(localstack, started).token
    response = client("lambda", localstack).invoke(
        FunctionName=deployment.approve_function,
        Payload=json.dumps({"token": token, "heartbeat": True}),
        LogType="Tail",
    )
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {"token": token, "heartbeat": True}
    request_id = response["ResponseMetadata"]["RequestId"]
    logged = base64.b64decode(response["LogResult"]).decode()
    [line] = [line for line in logged.splitlines() if "heartbeat sent" in line]
    # As AWS's Node.js runtime prints console.log: time, request id, level, the message.
    _, logged_id, level, message = line.split("\t")
    assert (logged_id, level) == (request_id, "INFO")
    assert json.loads(message) == {"message": "heartbeat sent", "requestId": request_id}
    assert execution.describe(localstack, started.arn).waiting_at == "NotifyReviewers"
    approval.decide(localstack, True, token=token)
    assert execution.wait_for_end(localstack, started.arn).status == "SUCCEEDED"
