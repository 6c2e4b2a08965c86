"""LocalStack's services reuse an assumed role's session (patch `assumed_roles_reused`).

What stays the same: Step Functions still calls a task's Lambda as the state machine's
role, in that role's account, execution after execution and account after account, and
Lambda still writes each function's logs into its own account; a session is reused for
one role, service and region only, never once it has expired, and never when asked for
by name.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import replace

import pytest
from localstack_python import in_localstack
from token_waits import ended

from sfnlab.deploy.functions import wait_until_ready
from sfnlab.support.aws import client
from sfnlab.testing.functions import zip_files
from sfnlab.testing.waiting import wait_for

WHOAMI = """
def handler(event, context):
    return {"account": context.invoked_function_arn.split(":")[4], "n": event["n"]}
"""
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        for service in ("states.amazonaws.com", "lambda.amazonaws.com")
    ],
}


@pytest.fixture(scope="module")
def accounts(localstack, lambda_python_version):
    """Two accounts, each with a function `whoami` and a state machine that calls it by name
    (so the account the call is made in decides which function runs)."""
    made = []
    for _ in range(2):
        settings = replace(localstack, account_id=f"{10**11 + secrets.randbelow(9 * 10**11):012d}")
        role = client("iam", settings).create_role(
            RoleName="runner", AssumeRolePolicyDocument=json.dumps(TRUST)
        )["Role"]["Arn"]
        lam = client("lambda", settings)
        lam.create_function(
            FunctionName="whoami",
            Runtime="python{}.{}".format(*lambda_python_version),
            Role=role,
            Handler="lambda_function.handler",
            Code={"ZipFile": zip_files({"lambda_function.py": WHOAMI})},
        )
        wait_until_ready(lam, "whoami")
        definition = {
            "StartAt": "Ask",
            "States": {
                "Ask": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": "whoami", "Payload.$": "$"},
                    "OutputPath": "$.Payload",
                    "End": True,
                }
            },
        }
        machine = client("stepfunctions", settings).create_state_machine(
            name=f"test-roles-{uuid.uuid4().hex[:8]}",
            definition=json.dumps(definition),
            roleArn=role,
        )["stateMachineArn"]
        made.append((settings, machine))
    yield made
    for settings, machine in made:
        client("stepfunctions", settings).delete_state_machine(stateMachineArn=machine)
        client("lambda", settings).delete_function(FunctionName="whoami")


def test_each_task_runs_as_its_state_machines_role_in_its_account(accounts):
    for n in range(3):  # again and again: the sessions are reused by now
        for settings, machine in accounts:
            sfn = client("stepfunctions", settings)
            arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"n": n}))[
                "executionArn"
            ]
            assert ended(sfn, arn, timeout=30) == "SUCCEEDED"
            output = json.loads(sfn.describe_execution(executionArn=arn)["output"])
            assert output == {"account": settings.account_id, "n": n}


def test_each_functions_logs_go_to_its_own_account(accounts):
    for settings, _ in accounts:
        logs = client("logs", settings)

        def streams(logs=logs) -> list:
            try:
                found = logs.describe_log_streams(logGroupName="/aws/lambda/whoami")
            except logs.exceptions.ResourceNotFoundException:
                return []
            return found["logStreams"]

        assert wait_for(streams, timeout=30), f"no logs in {settings.account_id}"
        arn = client("lambda", settings).get_function(FunctionName="whoami")
        assert f":{settings.account_id}:" in arn["Configuration"]["FunctionArn"]


def test_a_session_is_reused_only_for_what_it_was_assumed_for_and_only_while_valid():
    report = in_localstack(
        """
        import json, time
        from localstack_sfnlab_patches import assumed_roles_reused as patch

        assumed = []
        def original(factory, **arguments):
            assumed.append(arguments)
            return object()  # a session: what `with_assumed_role` returns
        def ask(**arguments):
            base = {"role_arn": "arn:aws:iam::111111111111:role/a", "service_principal": "states"}
            return patch.reuse_session(original, "factory", **{**base, **arguments})

        first = ask()
        same = ask() is first
        other_role = ask(role_arn="arn:aws:iam::222222222222:role/a") is not first
        other_service = ask(service_principal="lambda") is not first
        other_region = ask(region_name="eu-west-1") is not first
        named = ask(session_name="mine") is not first and ask(session_name="mine") is not first
        count = len(assumed)

        patch.SESSIONS = patch.Sessions(size=2, seconds=0.2)
        fresh = ask()
        kept = ask() is fresh
        time.sleep(0.3)
        expired = ask() is not fresh
        for n in range(3):
            ask(role_arn=f"arn:aws:iam::111111111111:role/r{n}")
        print(json.dumps({
            "same": same, "other_role": other_role, "other_service": other_service,
            "other_region": other_region, "named": named, "count": count,
            "kept": kept, "expired": expired, "bounded": len(patch.SESSIONS._sessions),
        }))
        """
    )
    assert report["same"] and report["other_role"] and report["other_service"]
    assert report["other_region"] and report["named"]
    assert report["count"] == 6  # first, three others, two named
    assert report["kept"] and report["expired"] and report["bounded"] == 2
