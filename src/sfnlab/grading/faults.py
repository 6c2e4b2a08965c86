"""Telling the kit's faults from the learner's: a fault of LocalStack, the executor or the
grader is never charged to a solution; it is retried once, then reported as such."""

from __future__ import annotations

import re
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from sfnlab.errors import KitFault, ReportedError

# Errors Step Functions reports when the Lambda *service* failed, not the function's code.
LAMBDA_SERVICE_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ResourceConflictException",
    "Lambda.ResourceNotReadyException",
}
SERVER_ERROR_CODES = {"InternalError", "InternalFailure", "ServiceException", "ServiceUnavailable"}
LOG_LINES = re.compile(r"ERROR|Exception|Traceback|Errno", re.IGNORECASE)


def is_kit_fault(error: BaseException) -> bool:
    if isinstance(error, KitFault):
        return True
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        code = error.response.get("Error", {}).get("Code", "")
        return status >= 500 or code in SERVER_ERROR_CODES
    return isinstance(error, BotoCoreError)


def describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if isinstance(error, ReportedError) else f"{type(error).__name__}: {text}"


def log_excerpt(log_file: Path | None, lines: int = 12) -> str:
    """The last lines of LocalStack's log that look like errors."""
    if log_file is None:
        return ""
    try:
        text = log_file.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join([line for line in text[-2000:] if LOG_LINES.search(line)][-lines:])
