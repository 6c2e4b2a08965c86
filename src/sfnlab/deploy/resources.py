"""`sfnlab deploy`: the exercise's roles, Lambdas and state machine, created or updated.

Deploying is idempotent: what already matches is left alone (code is compared by its
SHA-256, settings and definitions by value), so a second deploy changes nothing and
costs only the read calls. The same code deploys to real AWS when `SFNLAB_TARGET=aws`,
and then only after the account is confirmed (see `guard_real_aws`).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from sfnlab.deploy.changes import Change
from sfnlab.deploy.definition import load_template, render, structural_problems
from sfnlab.deploy.functions import build_zip, code_sha256, wait_until_ready
from sfnlab.deploy.iam import (
    LAMBDA_TRUST,
    SEND_REVIEW_DECISION,
    STATES_TRUST,
    WRITE_LOGS,
    ensure_role,
    invoke_functions_policy,
)
from sfnlab.deploy.remembered import DeployRequest, remember
from sfnlab.errors import DefinitionError, LearnerError
from sfnlab.exercise import (
    APPROVE,
    DEFAULT_PREFIX,
    DEFAULT_REVIEW_HEARTBEAT,
    DEFAULT_REVIEW_TIMEOUT,
    DEFINITION_FILE,
    LAMBDAS_FOLDER,
    MAX_REVIEW_SECONDS,
    RUNTIME,
    STACK_NAME,
    STATE_MACHINE_NAME,
    STEPS,
    Step,
    role_name,
)
from sfnlab.settings import PROJECT_ROOT, Settings, load_settings
from sfnlab.support.aws import client

# Set by docker/localstack/ready.d/sfnlab-inbox.sh: where Lambdas in containers find the
# inbox (by its service name), which the host cannot tell from its side.
LAMBDA_INBOX_PARAMETER = "/sfnlab/lambda-inbox-url"


@dataclass
class Deployment:
    state_machine_arn: str
    function_names: dict[str, str]  # step key -> function name
    approve_function: str
    changes: list[Change] = field(default_factory=list)
    state_machine_role: str = ""  # the role the state machine runs as (its ARN)

    @property
    def changed(self) -> list[Change]:
        return [change for change in self.changes if change.changed]


def lambda_inbox_url(settings: Settings) -> str:
    """The inbox's URL as the Lambdas reach it: SFNLAB_LAMBDA_INBOX_URL if given, else what
    the LocalStack in use publishes (Docker: http://inbox:4567), else SFNLAB_INBOX_URL."""
    if settings.lambda_inbox_url_given or settings.on_aws:
        return settings.lambda_inbox_url
    # Published once, in LocalStack's default account, whichever account deploys.
    ssm = client("ssm", replace(settings, account_id=Settings.account_id))
    try:
        return ssm.get_parameter(Name=LAMBDA_INBOX_PARAMETER)["Parameter"]["Value"].rstrip("/")
    except ssm.exceptions.ParameterNotFound:
        return settings.lambda_inbox_url


def guard_real_aws(settings: Settings, confirm_account: str | None) -> None:
    """Never reach AWS by accident: the account must be named, and must be the one in use."""
    if not settings.on_aws:
        return
    if not confirm_account:
        raise LearnerError(
            "SFNLAB_TARGET=aws deploys to real AWS, which costs money and changes a real "
            "account, so the account must be confirmed.",
            hint="Run `sfnlab deploy --aws-account <12-digit account id>` with the account "
            "your credentials belong to.",
        )
    account = client("sts", settings).get_caller_identity()["Account"]
    if account != confirm_account:
        raise LearnerError(
            f"Your AWS credentials are for account {account}, not {confirm_account}: nothing "
            "was deployed."
        )


def deploy(
    settings: Settings | None = None,
    *,
    source: Path = PROJECT_ROOT,
    prefix: str = DEFAULT_PREFIX,
    state_machine_name: str = STATE_MACHINE_NAME,
    review_timeout: int = DEFAULT_REVIEW_TIMEOUT,
    review_heartbeat: int | None = DEFAULT_REVIEW_HEARTBEAT,
    confirm_account: str | None = None,
    function_timeout: int = 30,
    inbox_url_for: Callable[[Step], str] | None = None,
    definition: Path | None = None,
    validated: bool = False,
    empty_account: bool = False,
) -> Deployment:
    """Create or update the roles, the Lambdas and the state machine from `source`.

    `source` is a folder laid out like the kit (`definitions/`, `lambdas/`): the kit itself
    by default, or a learner's solution. `definition` is another definition file for the
    same state machine and Lambdas (the JSONata one, say) instead of `source`'s
    `definitions/SolveIssueStepFunction.json`. `inbox_url_for(step)` gives each function its
    own INBOX_URL (the grader tells the steps' requests apart that way). `validated`: the
    caller has had the rendered definition validated already (the grader does, before it
    deploys anything), so it is not sent for validation twice. `empty_account`: the caller
    has checked that the account holds none of it (the grader, in each new account), so
    everything is created without a look for what is there first.
    """
    settings = settings or load_settings()
    guard_real_aws(settings, confirm_account)
    check_review_seconds(review_timeout, review_heartbeat)
    if review_heartbeat is not None and review_heartbeat >= review_timeout:
        raise LearnerError(
            f"The review heartbeat ({review_heartbeat} s) must be shorter than the review "
            f"timeout ({review_timeout} s)."
        )
    definition_file = definition or source / DEFINITION_FILE
    shown = str(definition or DEFINITION_FILE)
    template = load_template(definition_file)
    code = build_zip(source / LAMBDAS_FOLDER)
    changes: list[Change] = []
    lam = client("lambda", settings)
    if not empty_account:
        refuse_stack_made(lam, STEPS[0].function_name(prefix))

    iam = client("iam", settings)
    lambda_role, role_changes = ensure_role(
        iam,
        role_name(prefix, "lambda"),
        LAMBDA_TRUST,
        {"write-logs": WRITE_LOGS},
        new=empty_account,
    )
    changes += role_changes
    approve_role, role_changes = ensure_role(
        iam,
        role_name(prefix, "approve"),
        LAMBDA_TRUST,
        {"write-logs": WRITE_LOGS, "send-review-decision": SEND_REVIEW_DECISION},
        new=empty_account,
    )
    changes += role_changes

    approve_name = APPROVE.function_name(prefix)
    arns: dict[str, str] = {}
    default_inbox_url = None if inbox_url_for else lambda_inbox_url(settings)
    for step in [*STEPS, APPROVE]:
        inbox_url = inbox_url_for(step) if inbox_url_for else default_inbox_url
        environment = {"INBOX_URL": inbox_url}
        if step.key == "NotifyReviewers":
            environment["APPROVE_FUNCTION_NAME"] = approve_name
        role = approve_role if step is APPROVE else lambda_role
        arn, change = ensure_function(
            lam, step, prefix, role, code, environment, function_timeout, new=empty_account
        )
        arns[step.key] = arn
        changes.append(change)
    # New functions get ready side by side: wait for them together, once all are made.
    for change in changes:
        if change.kind == "function" and change.action == "created":
            wait_until_ready(lam, change.name)

    step_arns = [arns[step.key] for step in STEPS]
    states_role, role_changes = ensure_role(
        iam,
        role_name(prefix, "states"),
        STATES_TRUST,
        {"invoke-steps": invoke_functions_policy(step_arns)},
        new=empty_account,
    )
    changes += role_changes

    values: dict[str, Any] = {f"{step.key}FunctionArn": arns[step.key] for step in STEPS}
    values["ReviewTimeoutSeconds"] = review_timeout
    values["ReviewHeartbeatSeconds"] = review_heartbeat
    rendered = render(template, values, shown)
    sfn = client("stepfunctions", settings)
    machine_arn, change = ensure_state_machine(
        sfn,
        state_machine_name,
        rendered,
        states_role,
        shown,
        validated=validated,
        new=empty_account,
    )
    changes.append(change)
    if inbox_url_for is None:  # `sfnlab up` deploys it again after a restart
        remember(
            settings,
            DeployRequest(
                str(Path(source).resolve()),
                prefix,
                state_machine_name,
                review_timeout,
                review_heartbeat,
                function_timeout,
            ),
        )
    return Deployment(
        state_machine_arn=machine_arn,
        function_names={step.key: step.function_name(prefix) for step in STEPS},
        approve_function=approve_name,
        changes=changes,
        state_machine_role=states_role,
    )


def refuse_stack_made(lam: Any, function_name: str) -> None:
    """Leave what a CloudFormation stack made to the stack (`sfnlab deploy --stack`).

    Changed behind its back, the stack would no longer describe what runs.
    """
    try:
        tags = lam.get_function(FunctionName=function_name).get("Tags") or {}
    except lam.exceptions.ResourceNotFoundException:
        return
    stack = tags.get("aws:cloudformation:stack-name")
    if stack or tags.get("lambda:createdBy") == "SAM":
        owner = f"the CloudFormation stack {stack}" if stack else "a CloudFormation stack"
        raise LearnerError(
            f"{function_name} was made by {owner}, so `sfnlab deploy` leaves it alone.",
            hint="Update it with `sfnlab deploy --stack`, or delete the stack first "
            f"(`awslocal cloudformation delete-stack --stack-name {stack or STACK_NAME}`).",
        )


def ensure_function(
    lam: Any,
    step: Step,
    prefix: str,
    role: str,
    code: bytes,
    environment: dict[str, str],
    timeout: int = 30,
    *,
    new: bool = False,
) -> tuple[str, Change]:
    """Create or update `step`'s function; `new`: it is known not to exist yet."""
    name = step.function_name(prefix)
    wanted = {
        "Runtime": RUNTIME,
        "Handler": f"{step.module}.lambda_handler",
        "Role": role,
        "Timeout": timeout,
        "MemorySize": 128,
        "Description": step.description,
        "Environment": {"Variables": environment},
    }
    current = None
    if not new:
        with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
            current = lam.get_function_configuration(FunctionName=name)
    if current is None:
        # Not waited for here: the caller waits until it is ready (see `deploy`).
        created = retry_until_role_usable(
            lambda: lam.create_function(FunctionName=name, Code={"ZipFile": code}, **wanted)
        )
        return created["FunctionArn"], Change("function", name, "created")
    action = "unchanged"
    if current.get("CodeSha256") != code_sha256(code):
        lam.update_function_code(FunctionName=name, ZipFile=code)
        wait_until_ready(lam, name)
        action = "updated"
    current_settings = {key: current.get(key) for key in wanted}
    current_settings["Environment"] = {
        "Variables": (current.get("Environment") or {}).get("Variables", {})
    }
    if current_settings != wanted:
        retry_until_role_usable(
            lambda: lam.update_function_configuration(FunctionName=name, **wanted)
        )
        wait_until_ready(lam, name)
        action = "updated"
    return current["FunctionArn"], Change("function", name, action)


def retry_until_role_usable(call: Callable[[], Any], timeout: float = 30.0) -> Any:
    """On AWS a new role takes a few seconds before Lambda may assume it; LocalStack: never."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except ClientError as e:
            role_not_ready = "cannot be assumed" in str(e)
            if not role_not_ready or time.monotonic() > deadline:
                raise
            time.sleep(2)


def ensure_state_machine(
    sfn: Any,
    name: str,
    definition: Any,
    role: str,
    source: str = str(DEFINITION_FILE),
    *,
    validated: bool = False,
    new: bool = False,
) -> tuple[str, Change]:
    """Create or update state machine `name`; `new`: it is known not to exist yet."""
    text = definition_text(definition)
    if not validated:
        validate(sfn, text, source)
    machines = () if new else sfn.get_paginator("list_state_machines").paginate()
    existing = next(
        (m for page in machines for m in page["stateMachines"] if m["name"] == name), None
    )
    if existing is None:
        arn = sfn.create_state_machine(name=name, definition=text, roleArn=role)["stateMachineArn"]
        return arn, Change("state machine", name, "created")
    arn = existing["stateMachineArn"]
    current = sfn.describe_state_machine(stateMachineArn=arn)
    if json.loads(current["definition"]) == definition and current["roleArn"] == role:
        return arn, Change("state machine", name, "unchanged")
    sfn.update_state_machine(stateMachineArn=arn, definition=text, roleArn=role)
    return arn, Change("state machine", name, "updated")


def check_review_seconds(review_timeout: int, review_heartbeat: int | None) -> None:
    """Refuse review times Step Functions would refuse, before anything is changed: the
    learner's number is the mistake, not the definition it is written into."""
    for what, seconds in (
        ("review timeout", review_timeout),
        ("review heartbeat", review_heartbeat),
    ):
        if seconds is None:
            continue
        if isinstance(seconds, bool) or not isinstance(seconds, int):
            raise LearnerError(f"The {what} must be a whole number of seconds, not {seconds!r}.")
        if not 1 <= seconds <= MAX_REVIEW_SECONDS:
            raise LearnerError(
                f"The {what} must be from 1 to {MAX_REVIEW_SECONDS} seconds "
                f"(Step Functions' limit); {seconds} is not.",
                hint="For a review without heartbeats, give none (`--review-heartbeat 0`, "
                "or review_heartbeat=None)."
                if what == "review heartbeat"
                else "",
            )


def definition_text(definition: Any) -> str:
    """A definition as deploy sends it to Step Functions (validate that same text, and
    LocalStack parses it once: the kit's patches keep each text's parse)."""
    return json.dumps(definition, indent=2)


def validate(sfn: Any, text: str, source: str = str(DEFINITION_FILE)) -> None:
    result = sfn.validate_state_machine_definition(definition=text, type="STANDARD")
    own = structural_problems(json.loads(text))
    # Step Functions reports missing targets and unreachable states too: when the kit
    # found them, its own words (which name the state and field) say each once.
    theirs = [
        d["message"]
        for d in result.get("diagnostics", [])
        if not (own and d.get("code") == "MISSING_TRANSITION_TARGET")
    ]
    problems = "; ".join(problem.rstrip(". ") for problem in theirs + own)
    if problems:
        raise DefinitionError(
            f"Step Functions rejects {source}: {problems}.",
            hint="Fix the definition, then deploy again.",
        )


def placeholder_values(
    settings: Settings | None = None,
    *,
    prefix: str = DEFAULT_PREFIX,
    review_timeout: int = DEFAULT_REVIEW_TIMEOUT,
    review_heartbeat: int | None = DEFAULT_REVIEW_HEARTBEAT,
) -> dict[str, Any]:
    """What the definitions' `${...}` placeholders stand for, from the deployed functions."""
    settings = settings or load_settings()
    lam = client("lambda", settings)
    values: dict[str, Any] = {}
    for step in STEPS:
        try:
            config = lam.get_function_configuration(FunctionName=step.function_name(prefix))
        except lam.exceptions.ResourceNotFoundException:
            raise LearnerError(
                f"The function {step.function_name(prefix)} is not deployed.",
                hint="Run `sfnlab deploy` (or the set-up notebook) first.",
            ) from None
        values[f"{step.key}FunctionArn"] = config["FunctionArn"]
    values["ReviewTimeoutSeconds"] = review_timeout
    values["ReviewHeartbeatSeconds"] = review_heartbeat
    return values


def deploy_state_machine(
    settings: Settings | None,
    name: str,
    definition_file: Path,
    *,
    prefix: str = DEFAULT_PREFIX,
    review_timeout: int = DEFAULT_REVIEW_TIMEOUT,
    review_heartbeat: int | None = DEFAULT_REVIEW_HEARTBEAT,
) -> str:
    """Create or update another state machine over the deployed functions; its ARN."""
    settings = settings or load_settings()
    values = placeholder_values(
        settings, prefix=prefix, review_timeout=review_timeout, review_heartbeat=review_heartbeat
    )
    definition = render(load_template(definition_file), values, definition_file.name)
    role = client("iam", settings).get_role(RoleName=role_name(prefix, "states"))["Role"]["Arn"]
    sfn = client("stepfunctions", settings)
    arn, _ = ensure_state_machine(sfn, name, definition, role, definition_file.name)
    return arn
