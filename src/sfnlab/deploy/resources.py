"""`sfnlab deploy`: the exercise's roles, Lambdas and state machine, created or updated.

Deploying is idempotent: what already matches is left alone (code is compared by its
SHA-256, settings and definitions by value), so a second deploy changes nothing and
costs only the read calls. The same code deploys to real AWS when `SFNLAB_TARGET=aws`,
and then only after the account is confirmed (see `guard_real_aws`). The grader deploys
each solution with `deploy_into_empty_account`: the same pieces, minus every look at
what is there. Remembering a deploy for `sfnlab up` is the caller's step
(`remembered.remember`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sfnlab.deploy.approval_link import deploy_approval_link
from sfnlab.deploy.changes import Change
from sfnlab.deploy.definition import (
    check_review_seconds,
    definition_text,
    load_template,
    render_definition,
    validate,
)
from sfnlab.deploy.functions import build_zip, ensure_function, wait_until_ready
from sfnlab.deploy.iam import (
    LAMBDA_TRUST,
    SEND_REVIEW_DECISION,
    STATES_TRUST,
    WRITE_LOGS,
    ensure_role,
    invoke_functions_policy,
)
from sfnlab.deploy.step_code import StepFiles, read_step_files
from sfnlab.errors import LearnerError
from sfnlab.exercise import (
    APPROVE,
    DEFAULT_PREFIX,
    DEFAULT_REVIEW_HEARTBEAT,
    DEFAULT_REVIEW_TIMEOUT,
    DEFINITION_FILE,
    LANGUAGES,
    PYTHON,
    STACK_NAME,
    STATE_MACHINE_NAME,
    STEPS,
    Step,
    role_name,
)
from sfnlab.settings import PROJECT_ROOT, Settings
from sfnlab.support.aws import client, find_state_machine

# Set by docker/localstack/ready.d/sfnlab-inbox.sh: where Lambdas in containers find the
# inbox (by its service name), which the host cannot tell from its side.
LAMBDA_INBOX_PARAMETER = "/sfnlab/lambda-inbox-url"


@dataclass(frozen=True)
class DeployRequest:
    """What one `deploy()` makes: enough to make it again (`sfnlab up` does, after a
    restart of LocalStack forgot it)."""

    source: Path = PROJECT_ROOT  # a folder laid out like the kit: definitions/, lambdas/
    prefix: str = DEFAULT_PREFIX
    state_machine_name: str = STATE_MACHINE_NAME
    review_timeout: int = DEFAULT_REVIEW_TIMEOUT
    review_heartbeat: int | None = DEFAULT_REVIEW_HEARTBEAT
    function_timeout: int = 30
    definition: Path | None = None  # another definition for the same Lambdas (JSONata)
    language: str = PYTHON.name  # of the kit's own Lambdas: lambdas/ or lambdas-js/

    @property
    def definition_file(self) -> Path:
        return self.definition or self.source / DEFINITION_FILE

    @property
    def lambdas(self) -> Path:
        """The folder of Lambdas deployed: `lambdas/`, or the kit's `lambdas-js/`."""
        return self.source / LANGUAGES[self.language].kit_folder

    @property
    def shown_definition(self) -> str:
        """The definition as messages name it."""
        return str(self.definition or DEFINITION_FILE)


@dataclass
class Deployment:
    state_machine_arn: str
    function_names: dict[str, str]  # step key -> function name
    approve_function: str
    changes: list[Change] = field(default_factory=list)
    state_machine_role: str = ""  # the role the state machine runs as (its ARN)
    request: DeployRequest | None = None  # what was asked for (for `remembered.remember`)
    approval_url: str = ""  # the approval page behind the reviewers' links ("" if none)

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
    settings: Settings,
    *,
    source: Path = PROJECT_ROOT,
    prefix: str = DEFAULT_PREFIX,
    state_machine_name: str = STATE_MACHINE_NAME,
    review_timeout: int = DEFAULT_REVIEW_TIMEOUT,
    review_heartbeat: int | None = DEFAULT_REVIEW_HEARTBEAT,
    function_timeout: int = 30,
    definition: Path | None = None,
    confirm_account: str | None = None,
    language: str = PYTHON.name,
) -> Deployment:
    """Create or update the roles, the Lambdas and the state machine from `source`.

    `source` is a folder laid out like the kit (`definitions/`, `lambdas/`): the kit itself
    by default, or a learner's solution. `definition` is another definition file for the
    same state machine and Lambdas (the JSONata one, say) instead of `source`'s
    `definitions/SolveIssueStepFunction.json`. `language` picks the kit's own Lambdas:
    `javascript` deploys `lambdas-js/` instead of `lambdas/`. Whichever folder, each step
    runs in the language of its handler file (`step_code.py`).
    """
    request = DeployRequest(
        Path(source),
        prefix,
        state_machine_name,
        review_timeout,
        review_heartbeat,
        function_timeout,
        Path(definition) if definition else None,
        language,
    )
    guard_real_aws(settings, confirm_account)
    check_review_seconds(review_timeout, review_heartbeat)
    template = load_template(request.definition_file)
    steps = lambdas_to_deploy(request)
    code = build_zip(request.lambdas)
    refuse_stack_made(client("lambda", settings), STEPS[0].function_name(prefix))
    inbox_url = lambda_inbox_url(settings)
    link = deploy_approval_link(
        settings,
        prefix=prefix,
        state_machine_name=state_machine_name,
        environment={"INBOX_URL": inbox_url},  # as every function of the exercise has
    )
    functions = deploy_functions(
        settings,
        code,
        steps,
        prefix,
        function_timeout,
        lambda _: inbox_url,
        approval_url=link.url,
    )
    functions.changes += link.changes  # reported after the functions, before the machine
    rendered = render_definition(
        template, functions.arns, review_timeout, review_heartbeat, request.shown_definition
    )
    deployment = deploy_machine(
        settings, functions, state_machine_name, rendered, request.shown_definition
    )
    return replace(deployment, request=request, approval_url=link.url)


def lambdas_to_deploy(request: DeployRequest) -> StepFiles:
    """Each step's handler in the request's Lambdas folder; a LearnerError if a step has
    none, or two."""
    folder = request.lambdas
    if request.language not in LANGUAGES:
        raise LearnerError(
            f"There is no {request.language} version of the exercise's Lambdas.",
            hint=f"The kit has them in {', '.join(LANGUAGES)}.",
        )
    if not folder.is_dir():
        kit = LANGUAGES[request.language].kit_folder
        raise LearnerError(
            f"{request.source} has no {kit}/ folder: there are no Lambdas to deploy.",
            hint=f"A language other than Python picks the kit's own Lambdas ({kit}/); a "
            "solution's lambdas/ folder says each step's language by its files, so deploy "
            "it without --language."
            if request.language != PYTHON.name
            else None,
        )
    steps = read_step_files(folder, folder.relative_to(request.source))
    if steps.problems:
        raise LearnerError(
            f"The Lambdas in {folder} cannot be deployed as they are: "
            + "; ".join(steps.problems)
            + "."
        )
    return steps


def deploy_into_empty_account(
    settings: Settings,
    lambdas: Path,
    definition: Any,
    *,
    prefix: str = DEFAULT_PREFIX,
    function_timeout: int = 30,
    inbox_url_for: Callable[[Step], str],
) -> Deployment:
    """The grader's deploy of a solution: into an account it has just found empty, so
    everything is created without a look for what is there first.

    `definition` is rendered and validated already (the grader judges it before it deploys
    anything); `inbox_url_for(step)` gives each function its own INBOX_URL, which is how
    the grader tells the steps' requests apart.
    """
    functions = deploy_functions(
        settings,
        build_zip(lambdas),
        read_step_files(lambdas),  # a step with no file fails as it runs, and only then
        prefix,
        function_timeout,
        inbox_url_for,
        new=True,
    )
    return deploy_machine(
        settings, functions, STATE_MACHINE_NAME, definition, validated=True, new=True
    )


@dataclass
class Functions:
    """The exercise's Lambdas as deployed: ARNs by step key, and what changed."""

    prefix: str
    arns: dict[str, str]
    changes: list[Change]


def deploy_functions(
    settings: Settings,
    code: bytes,
    steps: StepFiles,
    prefix: str,
    function_timeout: int,
    inbox_url_for: Callable[[Step], str],
    *,
    new: bool = False,
    approval_url: str | None = None,
) -> Functions:
    """The two Lambda roles and every step's function (the approve Lambda's included),
    created or updated from `code` (the zip), each in the language of its handler file in
    `steps`; `new`: none of it exists yet. With `approval_url`, the reviewers' message
    carries a link to approve and one to reject."""
    iam = client("iam", settings)
    lam = client("lambda", settings)
    changes: list[Change] = []
    lambda_role, role_changes = ensure_role(
        iam, role_name(prefix, "lambda"), LAMBDA_TRUST, {"write-logs": WRITE_LOGS}, new=new
    )
    changes += role_changes
    approve_role, role_changes = ensure_role(
        iam,
        role_name(prefix, "approve"),
        LAMBDA_TRUST,
        {"write-logs": WRITE_LOGS, "send-review-decision": SEND_REVIEW_DECISION},
        new=new,
    )
    changes += role_changes
    arns: dict[str, str] = {}
    for step in [*STEPS, APPROVE]:
        environment = {"INBOX_URL": inbox_url_for(step)}
        if step.key == "NotifyReviewers":
            environment["APPROVE_FUNCTION_NAME"] = APPROVE.function_name(prefix)
            if approval_url:
                environment["APPROVAL_URL"] = approval_url
        role = approve_role if step is APPROVE else lambda_role
        handler = steps.of(step)
        arn, change = ensure_function(
            lam,
            step,
            prefix,
            role,
            code,
            environment,
            function_timeout,
            new=new,
            runtime=handler.runtime,
            handler=handler.handler,
        )
        arns[step.key] = arn
        changes.append(change)
    # New functions get ready side by side: wait for them together, once all are made.
    for change in changes:
        if change.kind == "function" and change.action == "created":
            wait_until_ready(lam, change.name)
    return Functions(prefix, arns, changes)


def deploy_machine(
    settings: Settings,
    functions: Functions,
    name: str,
    definition: Any,
    source: str = str(DEFINITION_FILE),
    *,
    validated: bool = False,
    new: bool = False,
) -> Deployment:
    """The state machine's role (allowed to invoke the steps' functions) and the state
    machine itself, created or updated; `validated`: by the caller already."""
    sfn = client("stepfunctions", settings)
    if not validated:
        validate(sfn, definition_text(definition), source)
    step_arns = [functions.arns[step.key] for step in STEPS]
    states_role, changes = ensure_role(
        client("iam", settings),
        role_name(functions.prefix, "states"),
        STATES_TRUST,
        {"invoke-steps": invoke_functions_policy(step_arns)},
        new=new,
    )
    machine_arn, change = ensure_state_machine(sfn, name, definition, states_role, new=new)
    return Deployment(
        state_machine_arn=machine_arn,
        function_names={step.key: step.function_name(functions.prefix) for step in STEPS},
        approve_function=APPROVE.function_name(functions.prefix),
        changes=[*functions.changes, *changes, change],
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


def ensure_state_machine(
    sfn: Any, name: str, definition: Any, role: str, *, new: bool = False
) -> tuple[str, Change]:
    """Create or update state machine `name` (its definition validated already); `new`:
    it is known not to exist yet."""
    text = definition_text(definition)
    arn = None if new else find_state_machine(sfn, name)
    if arn is None:
        arn = sfn.create_state_machine(name=name, definition=text, roleArn=role)["stateMachineArn"]
        return arn, Change("state machine", name, "created")
    current = sfn.describe_state_machine(stateMachineArn=arn)
    if json.loads(current["definition"]) == definition and current["roleArn"] == role:
        return arn, Change("state machine", name, "unchanged")
    sfn.update_state_machine(stateMachineArn=arn, definition=text, roleArn=role)
    return arn, Change("state machine", name, "updated")


def deployed_function_arns(settings: Settings, prefix: str = DEFAULT_PREFIX) -> dict[str, str]:
    """The steps' function ARNs by step key, from the deployed functions."""
    lam = client("lambda", settings)
    arns: dict[str, str] = {}
    for step in STEPS:
        try:
            config = lam.get_function_configuration(FunctionName=step.function_name(prefix))
        except lam.exceptions.ResourceNotFoundException:
            raise LearnerError(
                f"The function {step.function_name(prefix)} is not deployed.",
                hint="Run `sfnlab deploy` (or the set-up notebook) first.",
            ) from None
        arns[step.key] = config["FunctionArn"]
    return arns


def deploy_state_machine(
    settings: Settings,
    name: str,
    definition_file: Path,
    *,
    prefix: str = DEFAULT_PREFIX,
    review_timeout: int = DEFAULT_REVIEW_TIMEOUT,
    review_heartbeat: int | None = DEFAULT_REVIEW_HEARTBEAT,
) -> str:
    """Create or update another state machine over the deployed functions; its ARN."""
    return deploy_definition(
        settings,
        name,
        load_template(definition_file),
        source=definition_file.name,
        prefix=prefix,
        review_timeout=review_timeout,
        review_heartbeat=review_heartbeat,
    )


def deploy_definition(
    settings: Settings,
    name: str,
    template: Any,
    *,
    source: str = "the definition",
    prefix: str = DEFAULT_PREFIX,
    review_timeout: int = DEFAULT_REVIEW_TIMEOUT,
    review_heartbeat: int | None = DEFAULT_REVIEW_HEARTBEAT,
) -> str:
    """Create or update the state machine `name` from a definition held in memory (a
    changed copy of one of definitions/, `${...}` placeholders and all), over the
    functions already deployed; its ARN. Checked as Step Functions checks it first."""
    definition = render_definition(
        template, deployed_function_arns(settings, prefix), review_timeout, review_heartbeat, source
    )
    role = client("iam", settings).get_role(RoleName=role_name(prefix, "states"))["Role"]["Arn"]
    sfn = client("stepfunctions", settings)
    validate(sfn, definition_text(definition), source)
    return ensure_state_machine(sfn, name, definition, role)[0]
