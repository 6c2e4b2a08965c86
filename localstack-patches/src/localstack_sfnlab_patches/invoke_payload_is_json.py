"""Invoke refuses a payload that is not JSON, as AWS Lambda does.

AWS answers `Invoke` with 400 `InvalidRequestContentException` ("Could not parse request
body into json: Could not parse payload into json: ...") when the payload is not a JSON
document, before any function runs. LocalStack 4.14 checks only that the payload is
UTF-8, so the function ran and failed on its event instead (a `JSONDecodeError` from the
runtime, with a stack trace of the runtime's own). The detail after the colon is
Python's description of the problem, not the one AWS's parser gives.
"""

from __future__ import annotations

import json
import re

from localstack.aws.api.lambda_ import InvalidRequestContentException
from localstack.services.lambda_.invocation.lambda_service import LambdaService

PAYLOAD_ARGUMENT = 7  # position of `payload` in LambdaService.invoke(self, ...)
EXPECTED = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"


def problem(payload: bytes) -> str | None:
    """What is wrong with `payload` as JSON, or None if it is a JSON document."""
    try:
        text = payload.decode("utf-8")
        json.loads(text)
    except UnicodeDecodeError as e:
        return str(e)
    except json.JSONDecodeError as e:
        first = len(text) - len(text.lstrip())
        token = re.match(r"[^\s,:\[\]{}\"]*", text[first:]).group(0)
        if token and e.pos == first:  # a bare word where a value should start
            return f"Unrecognized token '{token}': was expecting {EXPECTED}"
        return f"{e.msg} (line {e.lineno}, column {e.colno})"
    return None


def apply() -> None:
    original = LambdaService.invoke

    def invoke(self: LambdaService, *args, **kwargs):
        if "payload" in kwargs:
            payload = kwargs["payload"]
        else:
            payload = args[PAYLOAD_ARGUMENT - 1] if len(args) >= PAYLOAD_ARGUMENT else None
        if payload:
            wrong = problem(payload if isinstance(payload, bytes) else str(payload).encode())
            if wrong:
                raise InvalidRequestContentException(
                    f"Could not parse request body into json: Could not parse payload into json: "
                    f"{wrong}",
                    Type="User",
                )
        return original(self, *args, **kwargs)

    LambdaService.invoke = invoke
