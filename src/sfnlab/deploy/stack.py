"""`sfnlab deploy --stack`: the exercise as a CloudFormation stack, from `template.yaml`.

`sfnlab deploy` makes the roles, Lambdas and state machine one API call at a time; the
stack describes the same resources once, in the AWS SAM template at the top of the
project, and CloudFormation makes them, as AWS users do in their own accounts. It takes
the steps AWS's own tools take:

- build and package (`sfnlab.deploy.stack_build`), as `sam build` and `aws cloudformation
  package` do;
- deploy: make a change set (CloudFormation runs the SAM transform) and execute it, or
  drop it when it changes nothing, as `aws cloudformation deploy` does.

Only LocalStack is deployed to from here; on AWS, `sam deploy --guided` takes
template.yaml as it is (docs/aws-template.md).
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from sfnlab.deploy.changes import Change
from sfnlab.deploy.definition import (
    check_review_seconds,
    definition_text,
    load_template,
    render_definition,
    validate,
)
from sfnlab.deploy.functions import function_arns
from sfnlab.deploy.resources import lambda_inbox_url
from sfnlab.deploy.stack_build import artifact_bucket, build, ensure_bucket, package
from sfnlab.errors import LearnerError
from sfnlab.exercise import (
    APPROVE,
    APPROVE_BY_LINK,
    DEFAULT_PREFIX,
    DEFAULT_REVIEW_HEARTBEAT,
    DEFAULT_REVIEW_TIMEOUT,
    DEFINITION_FILE,
    STACK_NAME,
    STATE_MACHINE_NAME,
    STEPS,
    TEMPLATE_FILE,
)
from sfnlab.settings import PROJECT_ROOT, Settings
from sfnlab.support.aws import client, find_state_machine
from sfnlab.support.polling import poll

# It makes IAM roles (unnamed: no CAPABILITY_NAMED_IAM), through SAM's transform.
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
RESOURCE_KINDS = {
    "AWS::ApiGateway::RestApi": "api",
    "AWS::ApiGateway::Deployment": "api deployment",
    "AWS::ApiGateway::Stage": "api stage",
    "AWS::Lambda::Permission": "permission",
    "AWS::IAM::Role": "role",
    "AWS::Lambda::Function": "function",
    "AWS::Logs::LogGroup": "log group",
    "AWS::StepFunctions::StateMachine": "state machine",
}
CHANGE_ACTIONS = {"Add": "created", "Modify": "updated", "Remove": "deleted"}
# AWS refuses a change set that changes nothing with one of these reasons.
NOTHING_TO_CHANGE = ("didn't contain changes", "No updates are to be performed")
STACK_TIMEOUT = 300.0  # seconds a stack may take to be created, updated or deleted
# A stack in one of these cannot be updated, only deleted and made again.
NEVER_MADE = ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "REVIEW_IN_PROGRESS", "DELETE_FAILED")
FAILED_STATUS_HOLDS = 2.0  # seconds a *_FAILED status must hold to be believed
STACK_NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")  # CloudFormation's rule


@dataclass
class StackDeployment:
    stack_name: str
    action: str  # created, updated, unchanged
    state_machine_arn: str
    function_names: dict[str, str]  # step key -> function name
    approve_function: str
    bucket: str
    build_dir: Path
    changes: list[Change] = field(default_factory=list)
    approval_url: str = ""  # the approval page behind the reviewers' links

    @property
    def changed(self) -> list[Change]:
        return [change for change in self.changes if change.changed]


# --- deploy -----------------------------------------------------------------------------


def refuse_real_aws(settings: Settings) -> None:
    if settings.on_aws:
        raise LearnerError(
            "`sfnlab deploy --stack` deploys to LocalStack only; on AWS, deploy the stack "
            "with AWS's own tools.",
            hint="At the kit's root, `sam deploy --guided` deploys template.yaml as it is "
            "(docs/aws-template.md).",
        )


def check_review_times(review_timeout: int, review_heartbeat: int | None) -> int:
    """The heartbeat, when the template can take these times."""
    if review_heartbeat is None:
        raise LearnerError(
            "The template always sets a review heartbeat.",
            hint="Give one shorter than the review timeout, e.g. --review-heartbeat "
            f"{max(1, review_timeout // 2)}.",
        )
    check_review_seconds(review_timeout, review_heartbeat)
    return review_heartbeat


def describe_stack(settings: Settings, name: str) -> dict | None:
    """The stack, or None when there is none (or only a deleted one)."""
    cfn = client("cloudformation", settings)
    try:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as e:
        if "does not exist" in str(e):
            return None
        raise
    return None if stack["StackStatus"] == "DELETE_COMPLETE" else stack


def wait_for_stack(settings: Settings, name: str, timeout: float = STACK_TIMEOUT) -> dict | None:
    """Poll until the stack has settled; its description (None: deleted).

    LocalStack 4.14 passes through CREATE_FAILED and DELETE_FAILED on its way to
    ROLLBACK_COMPLETE and DELETE_COMPLETE (a resource that failed, or that a rolled-back
    creation never made), so a failed status counts only once it has held a moment.
    """
    seen: dict[str, Any] = {"stack": None, "status": None, "since": 0.0}

    def settled() -> bool:
        stack = describe_stack(settings, name)
        status = stack["StackStatus"] if stack else None
        now = time.monotonic()
        if status != seen["status"]:
            seen.update(status=status, since=now)
        seen["stack"] = stack
        if status is None:
            return True
        if status.endswith("_FAILED"):
            return now - seen["since"] >= FAILED_STATUS_HOLDS
        return not status.endswith("_IN_PROGRESS")

    if not poll(settled, timeout, max_delay=0.25):
        raise LearnerError(
            f"The stack {name} was still {seen['status']} after {timeout:.0f} s.",
            hint="Look at its events: `awslocal cloudformation describe-stack-events "
            f"--stack-name {name}`.",
        )
    return seen["stack"]


def failure_reasons(settings: Settings, name: str, since: datetime) -> str:
    """What went wrong, from the stack's failed resource events since `since`."""
    cfn = client("cloudformation", settings)
    with contextlib.suppress(ClientError):
        events = cfn.describe_stack_events(StackName=name)["StackEvents"]
        failed = [
            f"{event['LogicalResourceId']} ({event['ResourceType']}): "
            f"{event.get('ResourceStatusReason') or event['ResourceStatus']}"
            for event in reversed(events)  # oldest first: the first failure is the cause
            if event["ResourceStatus"].endswith("_FAILED")
            and event["LogicalResourceId"] != name
            and event["Timestamp"] >= since
        ]
        if failed:
            return "; ".join(dict.fromkeys(failed))
    return "no resource says why"


def stack_resources(settings: Settings, name: str) -> list[dict]:
    cfn = client("cloudformation", settings)
    return cfn.describe_stack_resources(StackName=name)["StackResources"]


def names_taken(
    settings: Settings, prefix: str, state_machine_name: str, owned: set[str]
) -> list[str]:
    """The named resources the stack would make that exist already, made by something else.

    CloudFormation does not take over a resource it did not make: it fails to make it.
    """
    lam = client("lambda", settings)
    logs = client("logs", settings)
    taken = []
    for step in [*STEPS, APPROVE, APPROVE_BY_LINK]:
        name = step.function_name(prefix)
        if name not in owned:
            with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
                lam.get_function_configuration(FunctionName=name)
                taken.append(f"function {name}")
        group = f"/aws/lambda/{name}"
        found = logs.describe_log_groups(logGroupNamePrefix=group).get("logGroups", [])
        if group not in owned and any(g["logGroupName"] == group for g in found):
            taken.append(f"log group {group}")
    machine = find_state_machine(client("stepfunctions", settings), state_machine_name)
    if machine is not None and machine not in owned:
        taken.append(f"state machine {state_machine_name}")
    return taken


def validate_definition(
    settings: Settings,
    source: Path,
    prefix: str,
    review_timeout: int,
    review_heartbeat: int,
) -> None:
    """Check the definition as the stack will make it, before CloudFormation tries."""
    template = load_template(source / DEFINITION_FILE)
    arns = function_arns(prefix, settings.account_id, settings.region)
    definition = render_definition(template, arns, review_timeout, review_heartbeat)
    validate(client("stepfunctions", settings), definition_text(definition))


def change_set_changes(settings: Settings, change_set_id: str) -> list[dict] | None:
    """The change set's resource changes once it is ready; None when it changes nothing."""
    cfn = client("cloudformation", settings)
    seen: dict = {}

    def ready() -> bool:
        seen.update(cfn.describe_change_set(ChangeSetName=change_set_id))
        return seen["Status"] not in ("CREATE_PENDING", "CREATE_IN_PROGRESS")

    if not poll(ready, STACK_TIMEOUT, max_delay=0.25):
        raise LearnerError(
            f"CloudFormation did not finish the change set in {STACK_TIMEOUT:.0f} s."
        )
    if seen["Status"] == "FAILED":
        reason = seen.get("StatusReason") or ""
        if any(words in reason for words in NOTHING_TO_CHANGE):
            return None
        raise LearnerError(f"CloudFormation refused the template: {reason}")
    changes = [c["ResourceChange"] for c in seen.get("Changes", []) if "ResourceChange" in c]
    return changes or None  # LocalStack: a complete change set with no changes


def deploy_stack(
    settings: Settings,
    *,
    source: Path = PROJECT_ROOT,
    stack_name: str = STACK_NAME,
    prefix: str = DEFAULT_PREFIX,
    state_machine_name: str = STATE_MACHINE_NAME,
    review_timeout: int = DEFAULT_REVIEW_TIMEOUT,
    review_heartbeat: int | None = DEFAULT_REVIEW_HEARTBEAT,
    build_dir: Path | None = None,
    template_file: Path = TEMPLATE_FILE,
) -> StackDeployment:
    """Create or update the exercise's stack from the template; or leave it unchanged.

    `source` is a folder laid out like the kit (`definitions/`, `lambdas/`). The build
    goes to `build_dir` (default `.sfnlab/stack/`), with `packaged.json`, the template
    CloudFormation got.
    """
    refuse_real_aws(settings)
    if not STACK_NAME_PATTERN.match(stack_name):
        raise LearnerError(
            f"{stack_name!r} cannot name a stack: a letter, then letters, digits and hyphens."
        )
    heartbeat = check_review_times(review_timeout, review_heartbeat)
    build_dir = build_dir or settings.home / "stack"
    built = build(build_dir, source, template_file)
    validate_definition(settings, source, prefix, review_timeout, heartbeat)

    changes: list[Change] = []
    current = describe_stack(settings, stack_name)
    busy = current is not None and current["StackStatus"].endswith("_IN_PROGRESS")
    if busy and current["StackStatus"] != "REVIEW_IN_PROGRESS":
        current = wait_for_stack(settings, stack_name)
    if current is not None and current["StackStatus"] in NEVER_MADE:
        # Neither made nor updatable (its creation failed, or its deletion): delete it first.
        remove_stack(settings, stack_name)
        changes.append(Change("stack", f"{stack_name} ({current['StackStatus']})", "deleted"))
        current = None
    owned = set()
    if current is not None:
        owned = {r["PhysicalResourceId"] for r in stack_resources(settings, stack_name)}
    taken = names_taken(settings, prefix, state_machine_name, owned)
    if taken:
        raise LearnerError(
            f"The stack cannot make {', '.join(taken)}: they exist already, made by "
            "`sfnlab deploy` or another stack, and CloudFormation does not take over what "
            "it did not make.",
            hint="On the embedded LocalStack, `sfnlab down && sfnlab up` starts from "
            "nothing; or delete them, or give the stack other names.",
        )

    bucket = artifact_bucket(settings)
    ensure_bucket(settings, bucket)
    packaged = package(settings, built, bucket)
    (build_dir / "packaged.json").write_text(json.dumps(packaged, indent=2))
    parameters = {
        "RequestCatcherUrl": lambda_inbox_url(settings),
        "ReviewTimeoutSeconds": str(review_timeout),
        "ReviewHeartbeatSeconds": str(heartbeat),
        "NamePrefix": prefix,
        "StateMachineName": state_machine_name,
        "LocalStackEndpoint": settings.endpoint,  # the approval links' form (LocalStack's)
    }
    cfn = client("cloudformation", settings)
    try:
        change_set = cfn.create_change_set(
            StackName=stack_name,
            ChangeSetName=f"sfnlab-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}",
            ChangeSetType="CREATE" if current is None else "UPDATE",
            TemplateBody=json.dumps(packaged),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=CAPABILITIES,
        )
    except ClientError as e:
        raise LearnerError(f"CloudFormation refused the template: {e}") from None
    resource_changes = change_set_changes(settings, change_set["Id"])
    if resource_changes is None:
        cfn.delete_change_set(ChangeSetName=change_set["Id"])
        action = "unchanged"
    else:
        action = "created" if current is None else "updated"
        since = datetime.now(timezone.utc) - timedelta(seconds=1)
        cfn.execute_change_set(ChangeSetName=change_set["Id"])
        ended = wait_for_stack(settings, stack_name)
        status = ended["StackStatus"] if ended else "DELETE_COMPLETE"
        if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
            reasons = failure_reasons(settings, stack_name, since)
            hint = "CloudFormation put the stack back as it was; fix the cause, then deploy again."
            if current is None:
                try:
                    remove_stack(settings, stack_name)
                    hint = "The stack was deleted again; fix the cause, then deploy again."
                except LearnerError as e:
                    hint = f"Deleting it failed too ({e.message}); the next deploy tries again."
            raise LearnerError(
                f"CloudFormation could not {'create' if current is None else 'update'} the "
                f"stack {stack_name} ({status}): {reasons}",
                hint=hint,
            )
    changes.append(Change("stack", stack_name, action))
    changes += resource_report(settings, stack_name, resource_changes or [])
    return stack_deployment(settings, stack_name, action, bucket, build_dir, changes)


def resource_report(settings: Settings, stack_name: str, resource_changes: list[dict]) -> list:
    """One Change per resource of the stack: what this deploy did to it."""
    done = {
        c["LogicalResourceId"]: CHANGE_ACTIONS.get(c["Action"], "updated") for c in resource_changes
    }
    report = []
    for resource in stack_resources(settings, stack_name):
        kind = RESOURCE_KINDS.get(resource["ResourceType"], resource["ResourceType"])
        name = resource["PhysicalResourceId"].rsplit(":", 1)[-1]  # an ARN: its last part
        report.append(Change(kind, name, done.pop(resource["LogicalResourceId"], "unchanged")))
    for logical_id, action in done.items():  # removed: no longer in the stack
        report.append(Change("resource", logical_id, action))
    return report


def stack_deployment(
    settings: Settings,
    stack_name: str,
    action: str,
    bucket: str,
    build_dir: Path,
    changes: list[Change],
) -> StackDeployment:
    stack = describe_stack(settings, stack_name)
    assert stack is not None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in stack_resources(settings, stack_name)
    }
    return StackDeployment(
        stack_name=stack_name,
        action=action,
        state_machine_arn=outputs["StateMachineArn"],
        function_names={step.key: physical[f"{step.key}Function"] for step in STEPS},
        approve_function=outputs["ApproveFunctionName"],
        approval_url=outputs.get("ApprovalLinkUrl", ""),
        bucket=bucket,
        build_dir=build_dir,
        changes=sorted(changes, key=lambda c: (report_order(c.kind), c.name)),
    )


REPORT_ORDER = [
    "stack",
    "role",
    "function",
    "log group",
    "api",
    "api deployment",
    "api stage",
    "permission",
    "state machine",
    "bucket",
]


def report_order(kind: str) -> int:
    return REPORT_ORDER.index(kind) if kind in REPORT_ORDER else len(REPORT_ORDER)


# --- delete -----------------------------------------------------------------------------


def remove_stack(settings: Settings, stack_name: str, attempts: int = 3) -> None:
    """Delete the stack; ask again while it stays DELETE_FAILED (a resource still in use)."""
    cfn = client("cloudformation", settings)
    for _ in range(attempts):
        cfn.delete_stack(StackName=stack_name)
        ended = wait_for_stack(settings, stack_name)
        if ended is None:
            return
    since = datetime.now(timezone.utc) - timedelta(seconds=STACK_TIMEOUT)
    raise LearnerError(
        f"CloudFormation could not delete the stack {stack_name} ({ended['StackStatus']}): "
        f"{failure_reasons(settings, stack_name, since)}"
    )


def delete_stack(
    settings: Settings, stack_name: str = STACK_NAME, *, artifacts: bool = True
) -> list[Change]:
    """Delete the stack and everything it made; with `artifacts`, the S3 bucket too."""
    refuse_real_aws(settings)
    changes = []
    if describe_stack(settings, stack_name) is not None:
        for resource in stack_resources(settings, stack_name):
            kind = RESOURCE_KINDS.get(resource["ResourceType"], resource["ResourceType"])
            name = resource["PhysicalResourceId"].rsplit(":", 1)[-1]
            changes.append(Change(kind, name, "deleted"))
        remove_stack(settings, stack_name)
        changes.append(Change("stack", stack_name, "deleted"))
    if artifacts:
        bucket = artifact_bucket(settings)
        s3 = client("s3", settings)
        with contextlib.suppress(s3.exceptions.NoSuchBucket):
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                if keys:
                    s3.delete_objects(Bucket=bucket, Delete={"Objects": keys})
            s3.delete_bucket(Bucket=bucket)
            changes.append(Change("bucket", bucket, "deleted"))
    return changes
