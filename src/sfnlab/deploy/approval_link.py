"""The approval link: API Gateway (a REST API) in front of the page that decides a review.

`sfnlab deploy` makes it beside the exercise (`template.yaml` describes the same): the
page's Lambda (`lambdas/approve_by_link.py`, the kit's own, whatever solution is
deployed) with a role of its own, a REST API whose `/review` resource sends every method
to it, a stage, and Lambda's permission for API Gateway to invoke it. Idempotent like the
rest of the deploy: what matches is left alone, and the API is deployed again only when
something in it changed.

The link a reviewer opens must work from their browser: on LocalStack that is the
`/restapis/<id>/<stage>/_user_request_/review` form on LocalStack's own endpoint (no DNS
needed; the embedded LocalStack listens on loopback), on AWS the API's execute-api host.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sfnlab.deploy.changes import Change
from sfnlab.deploy.functions import build_zip, ensure_function, wait_until_ready
from sfnlab.deploy.iam import LAMBDA_TRUST, WRITE_LOGS, decide_by_link_policy, ensure_role
from sfnlab.exercise import APPROVE_BY_LINK, DEFAULT_PREFIX, LAMBDAS_FOLDER, Step, role_name
from sfnlab.settings import PROJECT_ROOT, Settings
from sfnlab.support.aws import client

STAGE = "links"  # template.yaml's ApprovalLinkApi has the same
RESOURCE = "review"
PERMISSION = "approval-link-api"  # the statement id of API Gateway's permission to invoke


@dataclass
class ApprovalLink:
    url: str  # the page's address, without the query a link adds
    api_id: str
    function_name: str
    changes: list[Change] = field(default_factory=list)


def api_name(prefix: str) -> str:
    return f"{prefix}approval-link"


def link_url(settings: Settings, api_id: str) -> str:
    """Where a reviewer's browser reaches the page."""
    if settings.on_aws:
        return f"https://{api_id}.execute-api.{settings.region}.amazonaws.com/{STAGE}/{RESOURCE}"
    return f"{settings.endpoint}/restapis/{api_id}/{STAGE}/_user_request_/{RESOURCE}"


def deploy_approval_link(
    settings: Settings,
    *,
    prefix: str = DEFAULT_PREFIX,
    state_machine_name: str,
    code: Path = PROJECT_ROOT / LAMBDAS_FOLDER,
    step: Step = APPROVE_BY_LINK,
    environment: dict[str, str] | None = None,
    new: bool = False,
) -> ApprovalLink:
    """Create or update the page's role, its Lambda (from `code`, handler `step.module`)
    and the REST API in front of it; `new`: none of it exists yet.

    A lesson may put another handler behind its own API (another `prefix` and `step`).
    """

    iam = client("iam", settings)
    lam = client("lambda", settings)
    role, changes = ensure_role(
        iam,
        role_name(prefix, "approve-link"),
        LAMBDA_TRUST,
        {"write-logs": WRITE_LOGS, "decide-by-link": decide_by_link_policy(state_machine_name)},
        new=new,
    )
    code_zip = build_zip(code)
    function_arn, change = ensure_function(
        lam, step, prefix, role, code_zip, environment or {}, new=new
    )
    if change.action == "created":
        wait_until_ready(lam, change.name)
    changes.append(change)
    apigateway = client("apigateway", settings)
    api_id, api_change = ensure_rest_api(apigateway, api_name(prefix), function_arn, settings)
    changes.append(api_change)
    changes.append(ensure_invoke_permission(lam, change.name, api_id, settings))
    return ApprovalLink(link_url(settings, api_id), api_id, change.name, changes)


def find_rest_api(apigateway: Any, name: str) -> str | None:
    for page in apigateway.get_paginator("get_rest_apis").paginate():
        for api in page["items"]:
            if api["name"] == name:
                return api["id"]
    return None


def integration_uri(settings: Settings, function_arn: str) -> str:
    return (
        f"arn:aws:apigateway:{settings.region}:lambda:path/2015-03-31/functions/"
        f"{function_arn}/invocations"
    )


def ensure_rest_api(
    apigateway: Any, name: str, function_arn: str, settings: Settings
) -> tuple[str, Change]:
    """The REST API with `/review` (every method) proxied to the function, deployed to
    its stage; deployed again only when something changed."""
    api_id = find_rest_api(apigateway, name)
    action = "unchanged"
    if api_id is None:
        api_id = apigateway.create_rest_api(
            name=name,
            description="sfn-approval-lab: the approval page behind the reviewers' links",
            endpointConfiguration={"types": ["REGIONAL"]},
        )["id"]
        action = "created"
    resources = [
        item
        for page in apigateway.get_paginator("get_resources").paginate(restApiId=api_id)
        for item in page["items"]
    ]
    root = next(item for item in resources if item["path"] == "/")
    review = next((item for item in resources if item["path"] == f"/{RESOURCE}"), None)
    if review is None:
        review = apigateway.create_resource(
            restApiId=api_id, parentId=root["id"], pathPart=RESOURCE
        )
    if "ANY" not in (review.get("resourceMethods") or {}):
        apigateway.put_method(
            restApiId=api_id, resourceId=review["id"], httpMethod="ANY", authorizationType="NONE"
        )
    uri = integration_uri(settings, function_arn)
    current = None
    with contextlib.suppress(apigateway.exceptions.NotFoundException):
        current = apigateway.get_integration(
            restApiId=api_id, resourceId=review["id"], httpMethod="ANY"
        )
    if current is None or current.get("type") != "AWS_PROXY" or current.get("uri") != uri:
        apigateway.put_integration(
            restApiId=api_id,
            resourceId=review["id"],
            httpMethod="ANY",
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=uri,
        )
        action = action if action == "created" else "updated"
    stage = None
    with contextlib.suppress(apigateway.exceptions.NotFoundException):
        stage = apigateway.get_stage(restApiId=api_id, stageName=STAGE)
    if stage is None or action != "unchanged":
        apigateway.create_deployment(restApiId=api_id, stageName=STAGE)
        action = action if action != "unchanged" else "updated"
    return api_id, Change("api", name, action)


def ensure_invoke_permission(
    lam: Any, function_name: str, api_id: str, settings: Settings
) -> Change:
    """API Gateway may invoke the page's function, from this API only."""
    account = function_account(lam, function_name)
    source = f"arn:aws:execute-api:{settings.region}:{account}:{api_id}/*/*/{RESOURCE}"
    statements = []
    with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
        statements = json.loads(lam.get_policy(FunctionName=function_name)["Policy"])["Statement"]
    mine = next((s for s in statements if s.get("Sid") == PERMISSION), None)
    label = f"{function_name}/{PERMISSION}"
    if mine is not None and source in json.dumps(mine.get("Condition")):
        return Change("permission", label, "unchanged")
    if mine is not None:
        lam.remove_permission(FunctionName=function_name, StatementId=PERMISSION)
    lam.add_permission(
        FunctionName=function_name,
        StatementId=PERMISSION,
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=source,
    )
    return Change("permission", label, "updated" if mine is not None else "created")


def function_account(lam: Any, function_name: str) -> str:
    arn = lam.get_function_configuration(FunctionName=function_name)["FunctionArn"]
    return arn.split(":")[4]


def remove_approval_link(
    settings: Settings, *, prefix: str = DEFAULT_PREFIX, step: Step = APPROVE_BY_LINK
) -> list[Change]:
    """Delete what `deploy_approval_link` made under `prefix` (a lesson's own endpoint)."""
    changes = []
    apigateway = client("apigateway", settings)
    api_id = find_rest_api(apigateway, api_name(prefix))
    if api_id is not None:
        apigateway.delete_rest_api(restApiId=api_id)
        changes.append(Change("api", api_name(prefix), "deleted"))
    lam = client("lambda", settings)
    with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
        lam.delete_function(FunctionName=step.function_name(prefix))
        changes.append(Change("function", step.function_name(prefix), "deleted"))
    iam = client("iam", settings)
    role = role_name(prefix, "approve-link")
    with contextlib.suppress(iam.exceptions.NoSuchEntityException):
        for policy in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            iam.delete_role_policy(RoleName=role, PolicyName=policy)
        iam.delete_role(RoleName=role)
        changes.append(Change("role", role, "deleted"))
    return changes
