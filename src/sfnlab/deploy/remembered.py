"""What was deployed, remembered, so that `sfnlab up` can bring it back after a restart.

LocalStack keeps its state in memory only: after `sfnlab down` and `up`, or a crash, the
state machine, its Lambdas and every execution are gone. Whoever deploys on a learner's
behalf (the command line, the notebooks' helpers) records the deploy here, in the state
folder (`deployments.json`), and `up` deploys again whatever the running LocalStack has
lost. The grader's deploys, into accounts thrown away after, are never recorded.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from sfnlab.deploy.resources import DeployRequest, deploy
from sfnlab.exercise import APPROVE, DEFAULT_PREFIX, PYTHON, STATE_MACHINE_NAME, STEPS
from sfnlab.settings import Settings
from sfnlab.support.aws import client, state_machine_arns
from sfnlab.support.progress import note, step

_lock = threading.Lock()  # one read-modify-write of the record at a time


@dataclass(frozen=True)
class Remembered:
    """A deploy as recorded: the request, and a fingerprint of what it depended on."""

    request: DeployRequest
    fingerprint: str


def fingerprint(settings: Settings, request: DeployRequest) -> str:
    """What a deploy depends on: the definition, every file of the Lambdas, the arguments."""
    digest = hashlib.sha256()
    source = request.source
    files = [request.definition_file, *sorted(request.lambdas.rglob("*"))]
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts:
            name = path.relative_to(source) if path.is_relative_to(source) else path
            digest.update(f"{name}\0".encode() + path.read_bytes())
    target = [settings.endpoint, settings.lambda_inbox_url, settings.region]
    digest.update(json.dumps([as_record(request), target]).encode())
    return digest.hexdigest()


def as_record(request: DeployRequest) -> dict:
    record = asdict(request)
    record["source"] = str(request.source)
    record["definition"] = str(request.definition) if request.definition else None
    return record


def from_record(item: dict) -> Remembered:
    item = dict(item)
    found = item.pop("fingerprint", "")
    item["source"] = Path(item["source"])
    item["definition"] = Path(item["definition"]) if item.get("definition") else None
    return Remembered(DeployRequest(**item), found)


def record_file(settings: Settings) -> Path:
    return settings.state_dir / "deployments.json"


def recorded(settings: Settings) -> list[Remembered]:
    try:
        items = json.loads(record_file(settings).read_text())
        return [from_record(item) for item in items]
    except (OSError, ValueError, TypeError, KeyError):
        return []


def remember(settings: Settings, request: DeployRequest) -> None:
    """Record `request` (replacing an earlier deploy of the same state machine)."""
    if settings.on_aws:
        return  # real AWS keeps its own state
    record = {**as_record(request), "fingerprint": fingerprint(settings, request)}
    key = (request.prefix, request.state_machine_name)
    with _lock:
        kept = [
            {**as_record(r.request), "fingerprint": r.fingerprint}
            for r in recorded(settings)
            if (r.request.prefix, r.request.state_machine_name) != key
        ]
        path = record_file(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        temporary.write_text(json.dumps([*kept, record], indent=2) + "\n")
        temporary.replace(path)


def missing(settings: Settings) -> list[DeployRequest]:
    """The recorded deployments whose state machine the running LocalStack does not have."""
    wanted = recorded(settings)
    if not wanted:
        return []
    present = state_machine_arns(client("stepfunctions", settings))
    return [r.request for r in wanted if r.request.state_machine_name not in present]


def restore(settings: Settings) -> list[DeployRequest]:
    """Deploy again what the running LocalStack has lost; returns what was redeployed."""
    lost = missing(settings)
    if not lost:
        return []
    names = ", ".join(request.state_machine_name for request in lost)
    note(
        f"LocalStack no longer has {names}: it keeps everything in memory, so a restart "
        "forgets the deployment and every execution (their task tokens with them). "
        "Deploying again what was deployed."
    )
    redeployed = []
    for request in lost:
        if not request.source.is_dir():
            note(
                f"Not redeploying {request.state_machine_name}: {request.source} no longer exists."
            )
            continue
        with step(f"Deploying {request.state_machine_name} again from {request.source}"):
            deploy_again(settings, request)
        remember(settings, request)  # what it depends on now
        redeployed.append(request)
    return redeployed


def deploy_again(settings: Settings, request: DeployRequest) -> None:
    deploy(
        settings,
        source=request.source,
        prefix=request.prefix,
        state_machine_name=request.state_machine_name,
        review_timeout=request.review_timeout,
        review_heartbeat=request.review_heartbeat,
        function_timeout=request.function_timeout,
        definition=request.definition,
        language=request.language,
    )


def ensure_deployed(settings: Settings, language: str = PYTHON.name) -> bool:
    """Deploy the kit (its Lambdas in `language`, and remember it) unless the same deploy
    is recorded and LocalStack still has it all.

    A redeploy that would change nothing still costs the IAM and SSM clients and twenty
    calls; this costs two calls. True when it deployed.
    """
    wanted = DeployRequest(language=language)
    last = next((r for r in recorded(settings) if r.request == wanted), None)
    if last is not None and last.fingerprint == fingerprint(settings, wanted) and present(settings):
        return False
    deploy_again(settings, wanted)
    remember(settings, wanted)
    return True


def present(settings: Settings) -> bool:
    """Whether the kit's state machine and every one of its functions exist."""
    lam = client("lambda", settings)
    functions = {
        function["FunctionName"]
        for page in lam.get_paginator("list_functions").paginate()
        for function in page["Functions"]
    }
    wanted = {step.function_name(DEFAULT_PREFIX) for step in [*STEPS, APPROVE]}
    machines = state_machine_arns(client("stepfunctions", settings))
    return STATE_MACHINE_NAME in machines and wanted <= functions
