"""Approve with SendTaskSuccess; reject with SendTaskFailure (the workflow catches it)."""

import json

import boto3

stepfunctions = boto3.client("stepfunctions")


def lambda_handler(event, context):
    token = event["token"]
    if event["approve"] is True:
        stepfunctions.send_task_success(taskToken=token, output=json.dumps({"approved": True}))
    else:
        stepfunctions.send_task_failure(
            taskToken=token, error="ReviewRejected", cause=str(event.get("comment", ""))
        )
    return {**event, "sent": True}
