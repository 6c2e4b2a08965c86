"""Lambda functions: their code zipped the same way every time, each created or updated
to match, and waiting until ready.

Each function's zip holds every `.py` and `.js` file of the lambdas folder (its own handler
and the helpers it shares, like `simulated_action.py`); the handler setting picks the file,
and the runtime the language (`step_code.py`). The same files always give the same bytes,
so unchanged code is skipped.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from sfnlab.deploy.changes import Change
from sfnlab.deploy.step_code import code_files
from sfnlab.errors import LearnerError
from sfnlab.exercise import PYTHON, STEPS, Step
from sfnlab.support.polling import poll

# Fixed metadata: the same files always give the same bytes, hence the same CodeSha256.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def build_zip(folder: Path) -> bytes:
    files = code_files(folder) if folder.is_dir() else []
    if not files:
        raise LearnerError(
            f"No Python or JavaScript files in {folder}: there is no Lambda code to deploy."
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.name, FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def code_sha256(data: bytes) -> str:
    """As Lambda reports it: base64 of the SHA-256 of the zip."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def wait_until_ready(lambda_client: Any, name: str, timeout: float = 60.0) -> dict:
    """Poll until `name` is Active with its last update done; return its configuration.

    boto3's waiters poll once a second at best; LocalStack is usually ready in a few ms.
    """
    seen: dict = {}

    def ready() -> bool:
        seen.update(lambda_client.get_function_configuration(FunctionName=name))
        state, update = seen.get("State"), seen.get("LastUpdateStatus")
        if state == "Failed" or update == "Failed":
            reason = seen.get("StateReason") or seen.get("LastUpdateStatusReason") or "unknown"
            raise LearnerError(f"Lambda function {name} could not be created: {reason}")
        return state == "Active" and update in (None, "Successful")

    if not poll(ready, timeout, max_delay=0.5):
        raise LearnerError(
            f"Lambda function {name} was still {seen.get('State')}/"
            f"{seen.get('LastUpdateStatus')} after {timeout:.0f} s.",
            hint="Look at `sfnlab logs` for what LocalStack reports.",
        )
    return seen


def function_arn(name: str, account: str, region: str) -> str:
    """A Lambda function's ARN: known before the function exists."""
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def function_arns(prefix: str, account: str, region: str) -> dict[str, str]:
    """The ARNs the steps' functions have (or will have) under `prefix`, by step key."""
    return {step.key: function_arn(step.function_name(prefix), account, region) for step in STEPS}


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
    runtime: str = PYTHON.runtime,
    handler: str | None = None,
) -> tuple[str, Change]:
    """Create or update `step`'s function; `new`: it is known not to exist yet. Its
    handler is `handler` (default: `lambda_handler` in the step's Python module)."""
    name = step.function_name(prefix)
    wanted = {
        "Runtime": runtime,
        "Handler": handler or PYTHON.handler_setting(step),
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
    if current is not None and current.get("State") == "Failed":
        # Its creation failed (its runtime missing here, say): it never ran, and updating
        # it would leave it Failed; made anew, it fails again saying why, or runs.
        lam.delete_function(FunctionName=name)
        current = None
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
