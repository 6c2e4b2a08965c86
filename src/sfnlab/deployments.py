"""What was deployed, remembered, so that `sfnlab up` can bring it back after a restart.

LocalStack keeps its state in memory only: after `sfnlab down` and `up`, or a crash, the
state machine, its Lambdas and every execution are gone. Each deploy into LocalStack's
default account is recorded in the state folder (`deployments.json`), and `up` deploys
again whatever the running LocalStack has lost.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from sfnlab.config import Settings
from sfnlab.progress import note, step

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
    from sfnlab.aws import client

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
    from sfnlab.deploy import deploy

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
