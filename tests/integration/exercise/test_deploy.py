"""Deploy creates what is missing, updates what changed, and leaves the rest alone."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest
from botocore.exceptions import ClientError

from sfnlab.deploy.definition import load_template, render_definition
from sfnlab.deploy.functions import function_arns
from sfnlab.deploy.iam import as_document
from sfnlab.deploy.resources import (
    LAMBDA_INBOX_PARAMETER,
    deploy,
    deploy_into_empty_account,
    lambda_inbox_url,
)
from sfnlab.errors import DefinitionError
from sfnlab.exercise import (
    DEFAULT_PREFIX,
    DEFAULT_REVIEW_HEARTBEAT,
    DEFAULT_REVIEW_TIMEOUT,
    DEFINITION_FILE,
    LAMBDAS_FOLDER,
)
from sfnlab.settings import PROJECT_ROOT
from sfnlab.support.aws import client
from sfnlab.workflow import executions as execution


def test_second_deploy_changes_nothing(localstack, deployment):
    again = deploy(localstack)
    assert again.changed == []
    assert {change.kind for change in again.changes} == {
        "role",
        "policy",
        "function",
        "api",
        "permission",
        "state machine",
    }


def test_changed_code_is_updated_in_place(localstack, tmp_path):
    source = tmp_path / "solution"
    shutil.copytree(PROJECT_ROOT / "definitions", source / "definitions")
    shutil.copytree(PROJECT_ROOT / "lambdas", source / "lambdas")
    first = deploy(localstack, source=source, prefix="t-update-", state_machine_name="UpdateMe")
    assert {c.action for c in first.changes if c.kind == "function"} == {"created"}
    notify = source / "lambdas" / "notify_ops.py"
    notify.write_text(notify.read_text().replace("Please deploy", "Kindly deploy"))
    second = deploy(localstack, source=source, prefix="t-update-", state_machine_name="UpdateMe")
    functions = {
        c.action
        for c in second.changes
        if c.kind == "function" and c.name != "t-update-approve-by-link"  # the kit's own code
    }
    assert functions == {"updated"}  # one zip holds every step's code
    assert all(c.action == "unchanged" for c in second.changes if c.kind != "function")


def empty_account_deploy(settings, prefix: str = DEFAULT_PREFIX):
    """What the grader does in each account it checked empty: render, then create."""
    template = load_template(PROJECT_ROOT / DEFINITION_FILE)
    arns = function_arns(prefix, settings.account_id, settings.region)
    definition = render_definition(template, arns, DEFAULT_REVIEW_TIMEOUT, DEFAULT_REVIEW_HEARTBEAT)
    inbox_url = lambda_inbox_url(settings)
    return deploy_into_empty_account(
        settings,
        PROJECT_ROOT / LAMBDAS_FOLDER,
        definition,
        prefix=prefix,
        inbox_url_for=lambda step: inbox_url,
    )


def test_a_deploy_into_an_empty_account_makes_what_a_deploy_would(localstack):
    """The grader's deploy, in each account it checked empty, creates without looking
    first: a normal deploy afterwards finds nothing to change but the approval link,
    which only it makes (and the reviewers' Lambda, told where the link's page is)."""
    fresh = replace(localstack, account_id="418274937162")
    first = empty_account_deploy(fresh, "t-empty-")
    assert {change.action for change in first.changes} == {"created"}
    again = deploy(fresh, prefix="t-empty-")
    assert {(c.kind, c.name, c.action) for c in again.changed} == {
        ("role", "t-empty-approve-link-role", "created"),
        ("policy", "t-empty-approve-link-role/write-logs", "created"),
        ("policy", "t-empty-approve-link-role/decide-by-link", "created"),
        ("function", "t-empty-approve-by-link", "created"),
        ("api", "t-empty-approval-link", "created"),
        ("permission", "t-empty-approve-by-link/approval-link-api", "created"),
        ("function", "t-empty-notify-reviewers", "updated"),
    }
    assert again.state_machine_arn == first.state_machine_arn


def test_a_deploy_told_the_account_is_empty_refuses_one_that_is_not(localstack, deployment):
    """What it would create exists already: it fails, it does not overwrite."""
    with pytest.raises(ClientError) as taken:
        empty_account_deploy(localstack)
    # The first thing it makes is the Lambdas' role, which IAM says is there already.
    assert taken.value.response["Error"]["Code"] == "EntityAlreadyExists"
    assert deploy(localstack).changed == []  # the deployment is as it was


def test_approve_role_may_only_send_task_decisions(localstack, deployment):
    iam = client("iam", localstack)
    names = iam.list_role_policies(RoleName="sfnlab-approve-role")["PolicyNames"]
    actions = set()
    for name in names:
        document = as_document(
            iam.get_role_policy(RoleName="sfnlab-approve-role", PolicyName=name)["PolicyDocument"]
        )
        for statement in document["Statement"]:
            actions.update(statement["Action"])
    assert {a for a in actions if a.startswith("states:")} == {
        "states:SendTaskSuccess",
        "states:SendTaskFailure",
        "states:SendTaskHeartbeat",
    }
    assert not any(a.endswith("*") for a in actions)


def test_state_machine_may_invoke_only_the_kits_functions(localstack, deployment):
    iam = client("iam", localstack)
    policy = as_document(
        iam.get_role_policy(RoleName="sfnlab-states-role", PolicyName="invoke-steps")[
            "PolicyDocument"
        ]
    )
    (statement,) = policy["Statement"]
    assert statement["Action"] == "lambda:InvokeFunction"
    names = {arn.split(":function:")[1].split(":")[0] for arn in statement["Resource"]}
    assert names == set(deployment.function_names.values())


def test_review_timeout_ends_in_its_own_fail_state(localstack):
    timed = deploy(
        localstack,
        prefix="t-timeout-",
        state_machine_name="SolveIssueQuickTimeout",
        review_timeout=1,
        review_heartbeat=None,
    )
    sfn = client("stepfunctions", localstack)
    arn = sfn.start_execution(
        stateMachineArn=timed.state_machine_arn,
        input=json.dumps({"issue": {"id": "ISSUE-1", "title": "slow review"}}),
    )["executionArn"]
    ended = execution.wait(localstack, arn, lambda e: e.ended, timeout=30, what="its end")
    assert ended.status == "FAILED"
    assert ended.error == "ReviewTimedOut"
    assert [s.name for s in ended.path][-1] == "ReviewTimedOut"
    assert next(s for s in ended.path if s.name == "NotifyReviewers").outcome == "caught"


def test_lambdas_find_the_inbox_where_localstack_publishes_it(localstack):
    # What docker/localstack/ready.d/sfnlab-inbox.sh does in the compose setup.
    ssm = client("ssm", localstack)
    ssm.put_parameter(
        Name=LAMBDA_INBOX_PARAMETER, Value="http://inbox:4567", Type="String", Overwrite=True
    )
    try:
        assert lambda_inbox_url(localstack) == "http://inbox:4567"
        other_account = replace(localstack, account_id="123456789012")
        assert lambda_inbox_url(other_account) == "http://inbox:4567"
        given = replace(localstack, lambda_inbox_url="http://mine:1", lambda_inbox_url_given=True)
        assert lambda_inbox_url(given) == "http://mine:1"
    finally:
        ssm.delete_parameter(Name=LAMBDA_INBOX_PARAMETER)
    assert lambda_inbox_url(localstack) == localstack.inbox_url


def test_a_definition_missing_a_state_names_each_problem_once(localstack, deployment, tmp_path):
    definition = load_template(PROJECT_ROOT / "definitions/SolveIssueStepFunction.json")
    del definition["States"]["MergeToMaster"]
    broken = tmp_path / "SolveIssue.json"
    broken.write_text(json.dumps(definition, indent=2))
    with pytest.raises(DefinitionError) as refused:
        deploy(localstack, definition=broken)
    message = str(refused.value)
    assert message == (
        f"Step Functions rejects {broken}: ReviewDecision: Choices[1].Next names "
        "'MergeToMaster', which is not a state; CreateRelease cannot be reached from "
        "CreateCode; NotifyOps cannot be reached from CreateCode; IssueSolved cannot be "
        "reached from CreateCode. Fix the definition, then deploy again."
    )
    # Nothing was changed: the deployed SolveIssue still merges.
    sfn = client("stepfunctions", localstack)
    deployed = sfn.describe_state_machine(stateMachineArn=deployment.state_machine_arn)
    assert "MergeToMaster" in json.loads(deployed["definition"])["States"]


def test_a_boolean_written_as_text_is_refused_as_aws_refuses_it(localstack, deployment, tmp_path):
    """`"BooleanEquals": "true"` never equals true: every approval would end rejected.
    AWS refuses the definition; so does deploy, naming where, and changes nothing."""
    definition = load_template(PROJECT_ROOT / "definitions/SolveIssueStepFunction.json")
    definition["States"]["ReviewDecision"]["Choices"][0]["BooleanEquals"] = "true"
    broken = tmp_path / "SolveIssue.json"
    broken.write_text(json.dumps(definition, indent=2))
    with pytest.raises(DefinitionError) as refused:
        deploy(localstack, definition=broken)
    assert str(refused.value) == (
        f"Step Functions rejects {broken}: Expected value of type Boolean at "
        "/States/ReviewDecision/Choices[0]/BooleanEquals. A boolean is true or false without "
        'quotes ("BooleanEquals": true). Fix the definition, then deploy again.'
    )
    sfn = client("stepfunctions", localstack)
    deployed = sfn.describe_state_machine(stateMachineArn=deployment.state_machine_arn)
    choice = json.loads(deployed["definition"])["States"]["ReviewDecision"]["Choices"][0]
    assert choice["BooleanEquals"] is True
