import json

import boto3

stepfunctions = boto3.client("stepfunctions")


def lambda_handler(event, context):
    if event["approve"]:
        stepfunctions.send_task_failure(taskToken=event["token"], error="Approved", cause="ok")
    else:
        stepfunctions.send_task_success(taskToken=event["token"], output=json.dumps({"approved": False}))
    return event
