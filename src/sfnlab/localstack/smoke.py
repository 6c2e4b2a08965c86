"""`sfnlab smoke`: deploy a one-file Lambda to LocalStack, invoke it, show what came back."""

from __future__ import annotations

import base64
import io
import json
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from sfnlab.deploy.functions import wait_until_ready
from sfnlab.deploy.iam import LAMBDA_TRUST, WRITE_LOGS, ensure_role
from sfnlab.settings import Settings
from sfnlab.support.aws import client

FUNCTION_NAME = "sfnlab-smoke"
ROLE_NAME = "sfnlab-smoke-role"
HANDLER_SOURCE = Path(__file__).with_name("smoke_handler.py")


@dataclass(frozen=True)
class SmokeResult:
    payload: dict
    log_tail: str
    invoke_ms: float


def zip_handler() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lambda_function.py", HANDLER_SOURCE.read_text())
    return buffer.getvalue()


def smoke(settings: Settings, event: dict | None = None) -> SmokeResult:
    """Create (or refresh) the smoke Lambda and invoke it once."""
    lam = client("lambda", settings)
    code = zip_handler()
    try:
        lam.update_function_code(FunctionName=FUNCTION_NAME, ZipFile=code)
    except lam.exceptions.ResourceNotFoundException:
        lam.create_function(
            FunctionName=FUNCTION_NAME,
            Runtime="python3.12",
            Role=ensure_role(
                client("iam", settings), ROLE_NAME, LAMBDA_TRUST, {"write-logs": WRITE_LOGS}
            )[0],
            Handler="lambda_function.lambda_handler",
            Code={"ZipFile": code},
            Timeout=10,
        )
    wait_until_ready(lam, FUNCTION_NAME)
    started = time.perf_counter()
    response = lam.invoke(
        FunctionName=FUNCTION_NAME,
        Payload=json.dumps(event or {"hello": "world"}).encode(),
        LogType="Tail",
    )
    invoke_ms = (time.perf_counter() - started) * 1000
    return SmokeResult(
        payload=json.loads(response["Payload"].read()),
        log_tail=base64.b64decode(response.get("LogResult", "")).decode(errors="replace"),
        invoke_ms=invoke_ms,
    )
