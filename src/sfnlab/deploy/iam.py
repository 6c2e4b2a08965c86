"""The IAM roles of the exercise, each allowed only what it needs."""

from __future__ import annotations

import contextlib
import json
from typing import Any
from urllib.parse import unquote

from sfnlab.deploy.changes import Change


def trust_policy(service: str) -> dict:
    """Who may assume the role: an AWS service (lambda.amazonaws.com, states.amazonaws.com)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }


LAMBDA_TRUST = trust_policy("lambda.amazonaws.com")
STATES_TRUST = trust_policy("states.amazonaws.com")
WRITE_LOGS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "arn:aws:logs:*:*:*",
        }
    ],
}
# Task tokens of service integrations cannot be scoped to a resource: the actions are
# what is limited, to the three a reviewer's decision needs.
SEND_REVIEW_DECISION = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "states:SendTaskSuccess",
                "states:SendTaskFailure",
                "states:SendTaskHeartbeat",
            ],
            "Resource": "*",
        }
    ],
}


def decide_by_link_policy(state_machine_name: str) -> dict:
    """The approval page behind a link: it decides (SendTaskSuccess, which no resource can
    limit), and reads the state machine's executions to say what a link decides."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["states:SendTaskSuccess"], "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": ["states:DescribeExecution", "states:GetExecutionHistory"],
                "Resource": f"arn:aws:states:*:*:execution:{state_machine_name}:*",
            },
        ],
    }


def invoke_functions_policy(function_arns: list[str]) -> dict:
    """The state machine may invoke the exercise's functions (any version), nothing else."""
    resources = sorted({*function_arns, *(f"{arn}:*" for arn in function_arns)})
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": resources}
        ],
    }


def as_document(policy: Any) -> dict:
    """IAM returns policy documents as dicts, or URL-encoded JSON strings."""
    if isinstance(policy, str):
        return json.loads(unquote(policy))
    return policy


def ensure_role(
    iam: Any, name: str, trust: dict, policies: dict[str, dict], *, new: bool = False
) -> tuple[str, list[Change]]:
    """Create or update role `name` with exactly these inline policies; return its ARN.

    `new`: the caller knows the role does not exist, so it is created without a look.
    """
    changes: list[Change] = []
    role = None
    if not new:
        with contextlib.suppress(iam.exceptions.NoSuchEntityException):
            role = iam.get_role(RoleName=name)["Role"]
    if role is None:
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
        changes.append(Change("role", name, "created"))
    elif as_document(role["AssumeRolePolicyDocument"]) != trust:
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
        changes.append(Change("role", name, "updated"))
    else:
        changes.append(Change("role", name, "unchanged"))
    existing = set() if new else set(iam.list_role_policies(RoleName=name)["PolicyNames"])
    for policy_name, document in policies.items():
        label = f"{name}/{policy_name}"
        if policy_name in existing:
            current = iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
            if as_document(current) == document:
                changes.append(Change("policy", label, "unchanged"))
                continue
            action = "updated"
        else:
            action = "created"
        iam.put_role_policy(
            RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(document)
        )
        changes.append(Change("policy", label, action))
    for stale in existing - set(policies):
        iam.delete_role_policy(RoleName=name, PolicyName=stale)
        changes.append(Change("policy", f"{name}/{stale}", "deleted"))
    return role["Arn"], changes
