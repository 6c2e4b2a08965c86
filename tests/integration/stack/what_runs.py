"""What LocalStack reports about a deployment of the exercise, in comparable form.

Account ids and generated role names differ from one deployment to another; everything
else (names, handlers, code, environment, what each role may do, the definition) must
not, whether `sfnlab deploy` or the stack made it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sfnlab.deploy.iam import as_document
from sfnlab.exercise import APPROVE, APPROVE_BY_LINK, STEPS
from sfnlab.settings import Settings
from sfnlab.support.aws import client

FUNCTION_FIELDS = (
    "FunctionName",
    "Handler",
    "Runtime",
    "Timeout",
    "MemorySize",
    "Description",
    "CodeSha256",
    "PackageType",
)


def without_account(value: Any, account: str) -> Any:
    """`value` with the account id replaced by a marker, so that two accounts compare."""
    return json.loads(json.dumps(value, default=str).replace(account, "<account>"))


def permissions(settings: Settings, role_arn: str) -> dict:
    """Who may assume the role, and every (effect, action, resource) its policies allow."""
    iam = client("iam", settings)
    name = role_arn.rsplit("/", 1)[-1]
    trust = as_document(iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"])
    statements = []
    for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
        statements += as_document(document)["Statement"]
    for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        version = iam.get_policy_version(
            PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"]
        )
        statements += as_document(version["PolicyVersion"]["Document"])["Statement"]
    allowed = set()
    for statement in statements:
        actions = statement["Action"]
        resources = statement["Resource"]
        for action in [actions] if isinstance(actions, str) else actions:
            for resource in [resources] if isinstance(resources, str) else resources:
                allowed.add((statement["Effect"], action, resource))
    principals = {
        (
            statement["Effect"],
            json.dumps(statement["Principal"], sort_keys=True),
            statement["Action"],
        )
        for statement in trust["Statement"]
    }
    return without_account(
        {"trust": sorted(principals), "allow": sorted(allowed)}, settings.account_id
    )


def functions(settings: Settings, prefix: str = "sfnlab-") -> dict[str, dict]:
    """Each of the exercise's functions: its settings, environment and role's permissions."""
    lam = client("lambda", settings)
    found = {}
    for step in [*STEPS, APPROVE, APPROVE_BY_LINK]:
        config = lam.get_function_configuration(FunctionName=step.function_name(prefix))
        environment = (config.get("Environment") or {}).get("Variables", {})
        if "APPROVAL_URL" in environment:  # each deployment's API has an id of its own
            environment["APPROVAL_URL"] = re.sub(
                r"/restapis/[^/]+/", "/restapis/<api>/", environment["APPROVAL_URL"]
            )
        found[step.key] = without_account(
            {
                **{key: config.get(key) for key in FUNCTION_FIELDS},
                "Environment": environment,
                "Role": permissions(settings, config["Role"]),
            },
            settings.account_id,
        )
    return found


def state_machine(settings: Settings, arn: str) -> dict:
    """The state machine's name, type, definition (parsed) and role's permissions."""
    machine = client("stepfunctions", settings).describe_state_machine(stateMachineArn=arn)
    return without_account(
        {
            "name": machine["name"],
            "type": machine["type"],
            "definition": json.loads(machine["definition"]),
            "role": permissions(settings, machine["roleArn"]),
        },
        settings.account_id,
    )


def approval_link(settings: Settings, prefix: str = "sfnlab-") -> dict:
    """The approval link's REST API: its name, stage, and what each resource sends where."""
    apigateway = client("apigateway", settings)
    api = next(
        item
        for item in apigateway.get_rest_apis()["items"]
        if item["name"] == f"{prefix}approval-link"
    )
    routes = {}
    for resource in apigateway.get_resources(restApiId=api["id"])["items"]:
        for method in resource.get("resourceMethods") or {}:
            integration = apigateway.get_integration(
                restApiId=api["id"], resourceId=resource["id"], httpMethod=method
            )
            routes[f"{method} {resource['path']}"] = (integration["type"], integration["uri"])
    stages = [s["stageName"] for s in apigateway.get_stages(restApiId=api["id"])["item"]]
    return without_account(
        {"name": api["name"], "stages": stages, "routes": routes}, settings.account_id
    )
