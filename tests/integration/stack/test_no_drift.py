"""`sfnlab deploy` and the stack make the same exercise: compared as LocalStack reports it.

Each is deployed into a LocalStack account of its own, so the names are the same and
nothing clashes; then functions, roles' permissions and definitions are compared, with
only the account id (and the roles' generated names) told apart.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from sfnlab.deploy.approval_link import api_name, find_rest_api
from sfnlab.deploy.resources import deploy
from sfnlab.deploy.stack import delete_stack, deploy_stack
from sfnlab.exercise import APPROVE, APPROVE_BY_LINK, STEPS, role_name
from sfnlab.support.aws import client
from tests.integration.stack import what_runs

BOTO3_ACCOUNT = "111100000021"
STACK_ACCOUNT = "111100000022"


@pytest.fixture(scope="module")
def both(localstack, tmp_path_factory):
    by_boto3 = replace(localstack, account_id=BOTO3_ACCOUNT)
    by_stack = replace(localstack, account_id=STACK_ACCOUNT)
    boto3_deployment = deploy(by_boto3)
    stack = deploy_stack(by_stack, build_dir=tmp_path_factory.mktemp("stack-build"))
    yield (by_boto3, boto3_deployment.state_machine_arn), (by_stack, stack.state_machine_arn)
    delete_stack(by_stack, stack.stack_name)
    remove_boto3_deployment(by_boto3, boto3_deployment.state_machine_arn)


def remove_boto3_deployment(settings, state_machine_arn: str) -> None:
    client("stepfunctions", settings).delete_state_machine(stateMachineArn=state_machine_arn)
    lam = client("lambda", settings)
    for step in [*STEPS, APPROVE, APPROVE_BY_LINK]:
        lam.delete_function(FunctionName=step.function_name())
    apigateway = client("apigateway", settings)
    apigateway.delete_rest_api(restApiId=find_rest_api(apigateway, api_name("sfnlab-")))
    iam = client("iam", settings)
    for purpose in ("lambda", "approve", "approve-link", "states"):
        name = role_name("sfnlab-", purpose)
        for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
        iam.delete_role(RoleName=name)


def test_the_same_functions_with_the_same_code_environment_and_permissions(both):
    (by_boto3, _), (by_stack, _) = both
    made_by_boto3 = what_runs.functions(by_boto3)
    made_by_stack = what_runs.functions(by_stack)
    assert made_by_stack == made_by_boto3
    # Not equal by being empty: the comparison covers what matters.
    notify = made_by_stack["NotifyReviewers"]
    assert notify["Environment"]["APPROVE_FUNCTION_NAME"] == "sfnlab-approve-step-with-token"
    assert notify["Environment"]["INBOX_URL"] == by_stack.inbox_url
    approve = made_by_stack["ApproveStepWithToken"]["Role"]["allow"]
    assert ["Allow", "states:SendTaskSuccess", "*"] in approve
    link = notify["Environment"]["APPROVAL_URL"]
    assert link == f"{by_stack.endpoint}/restapis/<api>/links/_user_request_/review"


def test_the_same_approval_link_api(both):
    (by_boto3, _), (by_stack, _) = both
    made_by_stack = what_runs.approval_link(by_stack)
    assert made_by_stack == what_runs.approval_link(by_boto3)
    assert made_by_stack["stages"] == ["links"]
    kind, uri = made_by_stack["routes"]["ANY /review"]
    assert kind == "AWS_PROXY" and uri.endswith(":function:sfnlab-approve-by-link/invocations")


def test_the_same_state_machine_definition_and_permissions(both):
    (by_boto3, boto3_arn), (by_stack, stack_arn) = both
    made_by_boto3 = what_runs.state_machine(by_boto3, boto3_arn)
    made_by_stack = what_runs.state_machine(by_stack, stack_arn)
    assert made_by_stack == made_by_boto3
    review = made_by_stack["definition"]["States"]["NotifyReviewers"]
    assert (review["TimeoutSeconds"], review["HeartbeatSeconds"]) == (86400, 3600)
    invoked = {resource for _, action, resource in made_by_stack["role"]["allow"]}
    assert len(invoked) == 12  # six functions, each also with any version
