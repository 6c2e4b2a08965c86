"""sfn-approval-lab: the Step Functions callback pattern on LocalStack, hands on.

`up`, `down`, `status` and `logs` are imported on first use, so that the inbox can run
from this package with nothing but the standard library (as it does in Docker).
"""

from typing import Any

__all__ = ["down", "logs", "status", "up"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from sfnlab.lab import lifecycle

        return getattr(lifecycle, name)
    raise AttributeError(f"module 'sfnlab' has no attribute {name!r}")
