"""What was deployed, remembered, so that `sfnlab up` can bring it back after a restart.

LocalStack keeps its state in memory only: after `sfnlab down` and `up`, or a crash, the
state machine, its Lambdas and every execution are gone. Each deploy into LocalStack's
default account is recorded in the state folder (`deployments.json`), and `up` deploys
again whatever the running LocalStack has lost.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from sfnlab.exercise import (
    APPROVE,
    DEFAULT_PREFIX,
    DEFAULT_REVIEW_HEARTBEAT,
    DEFAULT_REVIEW_TIMEOUT,
    DEFINITION_FILE,
    LAMBDAS_FOLDER,
    STATE_MACHINE_NAME,
    STEPS,
)
from sfnlab.settings import PROJECT_ROOT, Settings
from sfnlab.support.progress import note, step

_lock = threading.Lock()  # one read-modify-write of the record at a time


@dataclass(frozen=True)
class DeployRequest:
    """The arguments of one `deploy()`: enough to make it again."""

    source: str
    prefix: str
    state_machine_name: str
    review_timeout: int
    review_heartbeat: int | None
    function_timeout: int
    fingerprint: str = ""  # of the source files, these arguments and the target

    def same_deploy(self, other: DeployRequest) -> bool:
        return replace(self, fingerprint="") == replace(other, fingerprint="")


def fingerprint(settings: Settings, request: DeployRequest) -> str:
    """What a deploy depends on: the definition, every file of the Lambdas, the arguments."""
    digest = hashlib.sha256()
    source = Path(request.source)
    files = [source / DEFINITION_FILE, *sorted((source / LAMBDAS_FOLDER).rglob("*"))]
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(f"{path.relative_to(source)}\0".encode() + path.read_bytes())
    target = [settings.endpoint, settings.lambda_inbox_url, settings.region]
    digest.update(json.dumps([asdict(replace(request, fingerprint="")), target]).encode())
    return digest.hexdigest()


def record_file(settings: Settings) -> Path:
    return settings.state_dir / "deployments.json"


def recorded(settings: Settings) -> list[DeployRequest]:
    try:
        items = json.loads(record_file(settings).read_text())
        return [DeployRequest(**item) for item in items]
    except (OSError, ValueError, TypeError):
        return []


def remember(settings: Settings, request: DeployRequest) -> None:
    """Record `request` (replacing an earlier deploy of the same state machine)."""
    if settings.on_aws or settings.account_id != Settings.account_id:
        return  # real AWS keeps its own state; the grader's accounts are thrown away
    request = replace(request, fingerprint=fingerprint(settings, request))
    with _lock:
        kept = [
            r
            for r in recorded(settings)
            if (r.prefix, r.state_machine_name) != (request.prefix, request.state_machine_name)
        ]
        path = record_file(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps([asdict(r) for r in [*kept, request]], indent=2) + "\n")
        temporary.replace(path)


def missing(settings: Settings) -> list[DeployRequest]:
    """The recorded deployments whose state machine the running LocalStack does not have."""
    wanted = recorded(settings)
    if not wanted:
        return []
    from sfnlab.support.aws import client

    sfn = client("stepfunctions", settings)
    present = {
        machine["name"]
        for page in sfn.get_paginator("list_state_machines").paginate()
        for machine in page["stateMachines"]
    }
    return [request for request in wanted if request.state_machine_name not in present]


def restore(settings: Settings) -> list[DeployRequest]:
    """Deploy again what the running LocalStack has lost; returns what was redeployed."""
    lost = missing(settings)
    if not lost:
        return []
    from sfnlab.deploy.resources import deploy

    names = ", ".join(request.state_machine_name for request in lost)
    note(
        f"LocalStack no longer has {names}: it keeps everything in memory, so a restart "
        "forgets the deployment and every execution (their task tokens with them). "
        "Deploying again what was deployed."
    )
    redeployed = []
    for request in lost:
        source = Path(request.source)
        if not source.is_dir():
            note(f"Not redeploying {request.state_machine_name}: {source} no longer exists.")
            continue
        with step(f"Deploying {request.state_machine_name} again from {source}"):
            deploy(
                settings,
                source=source,
                prefix=request.prefix,
                state_machine_name=request.state_machine_name,
                review_timeout=request.review_timeout,
                review_heartbeat=request.review_heartbeat,
                function_timeout=request.function_timeout,
            )
        redeployed.append(request)
    return redeployed


def kit_request() -> DeployRequest:
    """The kit's own deployment, as `sfnlab deploy` makes it by default."""
    return DeployRequest(
        str(PROJECT_ROOT),
        DEFAULT_PREFIX,
        STATE_MACHINE_NAME,
        DEFAULT_REVIEW_TIMEOUT,
        DEFAULT_REVIEW_HEARTBEAT,
        30,
    )


def ensure_deployed(settings: Settings) -> bool:
    """Deploy the kit unless the same deploy is recorded and LocalStack still has it all.

    A redeploy that would change nothing still costs the IAM and SSM clients and twenty
    calls; this costs two calls. True when it deployed.
    """
    wanted = kit_request()
    last = next((r for r in recorded(settings) if r.same_deploy(wanted)), None)
    if last is not None and last.fingerprint == fingerprint(settings, wanted) and present(settings):
        return False
    from sfnlab.deploy.resources import deploy

    deploy(settings)
    return True


def present(settings: Settings) -> bool:
    """Whether the kit's state machine and every one of its functions exist."""
    from sfnlab.support.aws import client

    sfn, lam = client("stepfunctions", settings), client("lambda", settings)
    machines = {
        machine["name"]
        for page in sfn.get_paginator("list_state_machines").paginate()
        for machine in page["stateMachines"]
    }
    functions = {
        function["FunctionName"]
        for page in lam.get_paginator("list_functions").paginate()
        for function in page["Functions"]
    }
    wanted = {step.function_name(DEFAULT_PREFIX) for step in [*STEPS, APPROVE]}
    return STATE_MACHINE_NAME in machines and wanted <= functions
