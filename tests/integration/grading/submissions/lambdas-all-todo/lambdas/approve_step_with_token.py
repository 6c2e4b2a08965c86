"""The manual step: a reviewer approves or rejects, handing back the task token.

TODO: Read `token` and `approve` from the event and send the decision to Step Functions with
boto3: `boto3.client("stepfunctions").send_task_success(taskToken=..., output=...)`.
The state machine's Choice then decides: merge, or end in a Fail state.
"""

import json  # noqa: F401

import boto3  # noqa: F401


def lambda_handler(event, context):
    raise NotImplementedError("TODO: write approve_step_with_token.lambda_handler")
