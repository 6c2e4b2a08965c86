"""Lambda functions: wait until one is ready, with the reason when it is not."""

from __future__ import annotations

from typing import Any

from sfnlab.errors import KitError
from sfnlab.polling import poll


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
            raise KitError(f"Lambda function {name} could not be created: {reason}")
        return state == "Active" and update in (None, "Successful")

    if not poll(ready, timeout, max_delay=0.5):
        raise KitError(
            f"Lambda function {name} was still {seen.get('State')}/"
            f"{seen.get('LastUpdateStatus')} after {timeout:.0f} s.",
            hint="Look at `sfnlab logs` for what LocalStack reports.",
        )
    return seen
