"""Lambda functions: wait until one is ready, with the reason when it is not."""

from __future__ import annotations

import time
from typing import Any

from sfnlab.errors import KitError


def wait_until_ready(lambda_client: Any, name: str, timeout: float = 60.0) -> dict:
    """Poll until `name` is Active with its last update done; return its configuration.

    boto3's waiters poll once a second at best; LocalStack is usually ready in a few ms.
    """
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        config = lambda_client.get_function_configuration(FunctionName=name)
        state, update = config.get("State"), config.get("LastUpdateStatus")
        if state == "Failed" or update == "Failed":
            reason = config.get("StateReason") or config.get("LastUpdateStatusReason") or "unknown"
            raise KitError(f"Lambda function {name} could not be created: {reason}")
        if state == "Active" and update in (None, "Successful"):
            return config
        if time.monotonic() > deadline:
            raise KitError(
                f"Lambda function {name} was still {state}/{update} after {timeout:.0f} s.",
                hint="Look at `sfnlab logs` for what LocalStack reports.",
            )
        time.sleep(delay)
        delay = min(delay * 2, 0.5)
