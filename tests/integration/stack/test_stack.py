"""The exercise as a CloudFormation stack on the embedded LocalStack: made from template.yaml,
run through both paths with the test events, updated, refused where it would clash, deleted.

Each stack lives in a LocalStack account of its own, apart from the kit's own deployment
(`sfnlab deploy`, default account) that the other tests use.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import requests
from botocore.exceptions import ClientError

from sfnlab.deploy.functions import build_zip, code_sha256
from sfnlab.deploy.resources import deploy
from sfnlab.deploy.stack import delete_stack, deploy_stack, describe_stack
from sfnlab.deploy.stack_build import artifact_bucket
from sfnlab.errors import LearnerError
from sfnlab.exercise import APPROVE, DEFINITION_FILE, INITIAL_EVENT, STEPS, TEMPLATE_FILE
from sfnlab.inbox import InboxClient
from sfnlab.settings import PROJECT_ROOT
from sfnlab.support.aws import client
from sfnlab.testing.waiting import wait_for
from sfnlab.workflow import approval
from sfnlab.workflow import executions as execution
from tests.integration.stack import what_runs


def account(number: int) -> str:
    return f"{111100000000 + number:012d}"


@pytest.fixture(scope="module")
def stack_settings(localstack):
    return replace(localstack, account_id=account(1))


@pytest.fixture(scope="module")
def stack(stack_settings, tmp_path_factory):
    deployed = deploy_stack(stack_settings, build_dir=tmp_path_factory.mktemp("stack-build"))
    yield deployed
    delete_stack(stack_settings, deployed.stack_name)


def run_through(settings, stack, approve: bool) -> tuple[execution.Execution, object]:
    """Start with test-events/initialEventTest.json, decide with the stack's approve Lambda."""
    machine = stack.state_machine_arn.rsplit(":", 1)[-1]
    started = execution.start(settings, event_file=INITIAL_EVENT, machine=machine)
    review = approval.find_review(settings, started.name, wait=True, timeout=30)
    approval.decide(settings, approve, token=review.token, function_name=stack.approve_function)
    return execution.wait_for_end(settings, started.arn), review


def test_cloudformation_makes_every_resource_of_the_template(stack):
    assert stack.action == "created"
    made = [(change.kind, change.action) for change in stack.changes]
    assert made.count(("role", "created")) == 4
    assert made.count(("function", "created")) == 8  # the approval page's included
    assert made.count(("log group", "created")) == 8
    assert made.count(("api", "created")) == 1
    assert made.count(("state machine", "created")) == 1
    assert stack.approve_function == APPROVE.function_name()
    assert stack.function_names == {step.key: step.function_name() for step in STEPS}


def test_the_package_holds_the_build_and_the_functions_run_it(stack, stack_settings):
    packaged = json.loads((stack.build_dir / "packaged.json").read_text())
    s3 = client("s3", stack_settings)
    code = build_zip(stack.build_dir / "lambdas")
    functions = [r for r in packaged["Resources"].values() if r["Type"].endswith("::Function")]
    assert len(functions) == 8
    for function in functions:
        location = function["Properties"]["CodeUri"]
        assert location["Bucket"] == stack.bucket
        assert s3.get_object(**location)["Body"].read() == code
    lam = client("lambda", stack_settings)
    for name in stack.function_names.values():
        assert lam.get_function_configuration(FunctionName=name)["CodeSha256"] == code_sha256(code)
    definition = packaged["Resources"]["SolveIssueStateMachine"]["Properties"]["DefinitionUri"]
    uploaded = s3.get_object(**definition)["Body"].read()
    assert uploaded == (stack.build_dir / DEFINITION_FILE).read_bytes()


def test_deploying_again_changes_nothing(stack, stack_settings, tmp_path):
    again = deploy_stack(stack_settings, build_dir=tmp_path / "build")
    assert again.action == "unchanged"
    assert again.changed == []
    assert again.state_machine_arn == stack.state_machine_arn


def test_approve_path_through_the_stacks_resources(stack, stack_settings):
    ended, review = run_through(stack_settings, stack, approve=True)
    assert ended.status == "SUCCEEDED"
    assert [s.name for s in ended.path][-4:] == [
        "MergeToMaster",
        "CreateRelease",
        "NotifyOps",
        "IssueSolved",
    ]
    assert ended.output["merge"]["branch"] == review.branch
    release = ended.output["release"]["name"]
    ops = InboxClient(stack_settings.inbox_url).requests(channel="ops")
    assert any(message.json.get("release") == release for message in ops)


def test_reject_path_through_the_stacks_resources(stack, stack_settings):
    ended, _ = run_through(stack_settings, stack, approve=False)
    assert ended.status == "FAILED"
    assert ended.error == "ReviewRejected"
    assert ended.cause == "Rejected by bob: Please add a test for the empty password"
    assert "MergeToMaster" not in [state.name for state in ended.path]


def test_the_reviewers_are_told_the_stacks_approve_function(stack, stack_settings):
    machine = stack.state_machine_arn.rsplit(":", 1)[-1]
    started = execution.start(stack_settings, event_file=INITIAL_EVENT, machine=machine)
    review = approval.find_review(stack_settings, started.name, wait=True, timeout=30)
    message = next(
        r.json
        for r in InboxClient(stack_settings.inbox_url).requests(channel="reviewers")
        if r.json.get("execution") == started.name
    )
    assert f"--function-name {stack.approve_function} " in message["toApprove"]["awslocal"]
    approval.decide(stack_settings, False, token=review.token, function_name=stack.approve_function)


def test_each_role_may_do_only_what_its_part_needs(stack, stack_settings):
    lam = client("lambda", stack_settings)
    logs = [
        ["Allow", action, "arn:aws:logs:*:*:*"]
        for action in ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
    ]
    for name in stack.function_names.values():
        role = lam.get_function_configuration(FunctionName=name)["Role"]
        assert what_runs.permissions(stack_settings, role)["allow"] == logs
    approve_role = lam.get_function_configuration(FunctionName=stack.approve_function)["Role"]
    decisions = [
        ["Allow", f"states:SendTask{what}", "*"] for what in ("Failure", "Heartbeat", "Success")
    ]
    assert what_runs.permissions(stack_settings, approve_role)["allow"] == sorted(logs + decisions)
    machine = what_runs.state_machine(stack_settings, stack.state_machine_arn)
    invoked = {resource for _, action, resource in machine["role"]["allow"]}
    assert {action for _, action, _ in machine["role"]["allow"]} == {"lambda:InvokeFunction"}
    step_arns = {
        f"arn:aws:lambda:us-east-1:<account>:function:{n}" for n in stack.function_names.values()
    }
    assert invoked == step_arns | {f"{arn}:*" for arn in step_arns}  # not the approve Lambda


def test_a_changed_parameter_updates_the_state_machine_in_place(stack, stack_settings, tmp_path):
    sfn = client("stepfunctions", stack_settings)
    try:
        updated = deploy_stack(
            stack_settings, build_dir=tmp_path / "b1", review_timeout=600, review_heartbeat=60
        )
        assert updated.action == "updated"
        assert {(c.kind, c.action) for c in updated.changed} == {
            ("stack", "updated"),
            ("state machine", "updated"),
        }
        machine = sfn.describe_state_machine(stateMachineArn=stack.state_machine_arn)
        review = json.loads(machine["definition"])["States"]["NotifyReviewers"]
        assert (review["TimeoutSeconds"], review["HeartbeatSeconds"]) == (600, 60)
    finally:
        assert deploy_stack(stack_settings, build_dir=tmp_path / "b2").action == "updated"


def test_sfnlab_deploy_leaves_the_stacks_functions_alone(stack, stack_settings):
    lam = client("lambda", stack_settings)
    before = lam.get_function_configuration(FunctionName=stack.approve_function)
    with pytest.raises(
        LearnerError, match=r"made by a CloudFormation stack.*sfnlab deploy --stack"
    ):
        deploy(stack_settings)
    after = lam.get_function_configuration(FunctionName=stack.approve_function)
    assert after["Role"] == before["Role"] and after["RevisionId"] == before["RevisionId"]


def nothing_of_the_exercise(settings) -> dict:
    """What is left in the account: functions, roles, state machines, log groups, buckets."""
    return {
        "functions": [
            f["FunctionName"] for f in client("lambda", settings).list_functions()["Functions"]
        ],
        "roles": [r["RoleName"] for r in client("iam", settings).list_roles()["Roles"]],
        "state machines": client("stepfunctions", settings).list_state_machines()["stateMachines"],
        "log groups": [
            g["logGroupName"] for g in client("logs", settings).describe_log_groups()["logGroups"]
        ],
        "buckets": [b["Name"] for b in client("s3", settings).list_buckets()["Buckets"]],
    }


EMPTY = {"functions": [], "roles": [], "state machines": [], "log groups": [], "buckets": []}


def test_deleting_the_stack_leaves_nothing_behind(localstack, tmp_path):
    settings = replace(localstack, account_id=account(2))
    stack = deploy_stack(settings, build_dir=tmp_path / "build")
    ended, _ = run_through(settings, stack, approve=True)
    assert ended.status == "SUCCEEDED"
    assert requests.get(stack.approval_url, timeout=30).status_code == 400  # a link cut short
    logs = client("logs", settings)
    names = [*stack.function_names.values(), stack.approve_function, "sfnlab-approve-by-link"]
    groups = [f"/aws/lambda/{name}" for name in names]
    assert sorted(nothing_of_the_exercise(settings)["log groups"]) == sorted(groups)
    # Every function has written into its group: deleting must take the logs too.
    assert wait_for(
        lambda: all(logs.describe_log_streams(logGroupName=g)["logStreams"] for g in groups)
    )
    deleted = delete_stack(settings, stack.stack_name)
    assert ("bucket", artifact_bucket(settings), "deleted") in [
        (c.kind, c.name, c.action) for c in deleted
    ]
    assert describe_stack(settings, stack.stack_name) is None
    assert nothing_of_the_exercise(settings) == EMPTY


def test_names_taken_by_sfnlab_deploy_are_refused_before_anything_is_made(localstack, tmp_path):
    settings = replace(localstack, account_id=account(3))
    deploy(settings)
    with pytest.raises(
        LearnerError, match=r"cannot make function sfnlab-create-code.*`sfnlab deploy`"
    ):
        deploy_stack(settings, build_dir=tmp_path / "build")
    assert describe_stack(settings, "sfnlab-solve-issue") is None
    with pytest.raises(ClientError):
        client("s3", settings).head_bucket(Bucket=artifact_bucket(settings))


def test_a_failed_creation_is_undone_and_the_next_deploy_makes_the_stack(localstack, tmp_path):
    settings = replace(localstack, account_id=account(4))
    broken = tmp_path / "template.yaml"
    broken.write_text(TEMPLATE_FILE.read_text().replace("python3.12", "python2.7"))
    with pytest.raises(LearnerError, match=r"could not create the stack.*python2\.7") as refused:
        deploy_stack(settings, build_dir=tmp_path / "b1", template_file=broken)
    assert "deleted again" in str(refused.value)
    assert describe_stack(settings, "sfnlab-solve-issue") is None
    left = nothing_of_the_exercise(settings)
    assert {key: left[key] for key in ("functions", "roles", "log groups")} == {
        "functions": [],
        "roles": [],
        "log groups": [],
    }
    made = deploy_stack(settings, build_dir=tmp_path / "b2")
    assert made.action == "created"
    delete_stack(settings, made.stack_name)
    assert nothing_of_the_exercise(settings) == EMPTY


def test_a_solution_folder_deploys_as_a_stack_too(localstack, tmp_path):
    source = tmp_path / "solution"
    (source / "definitions").mkdir(parents=True)
    (source / DEFINITION_FILE).write_text((PROJECT_ROOT / DEFINITION_FILE).read_text())
    (source / "lambdas").mkdir()
    for path in (PROJECT_ROOT / "lambdas").glob("*.py"):
        text = path.read_text()
        if path.name == "notify_ops.py":
            text = text.replace("Please deploy", "Kindly deploy")
        (source / "lambdas" / path.name).write_text(text)
    settings = replace(localstack, account_id=account(5))
    stack = deploy_stack(settings, source=source, build_dir=tmp_path / "build")
    try:
        ended, _ = run_through(settings, stack, approve=True)
        assert ended.status == "SUCCEEDED"
        ops = InboxClient(settings.inbox_url).requests(channel="ops")
        assert any(
            str(m.json.get("subject", "")).startswith("Kindly deploy")
            and m.json.get("release") == ended.output["release"]["name"]
            for m in ops
        )
    finally:
        delete_stack(settings, stack.stack_name)
