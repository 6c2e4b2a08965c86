"""sfn-approval-lab: the Step Functions callback pattern on LocalStack, hands on."""

from sfnlab.lifecycle import down, logs, status, up

__all__ = ["down", "logs", "status", "up"]
