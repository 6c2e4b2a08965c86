import json

import boto3

client = boto3.client("stepfunctions")


def lambda_handler(event, context):
    verdict = "ship it" if event["approve"] else "not yet"
    client.send_task_success(taskToken=event["token"], output=json.dumps({"verdict": verdict}))
    return dict(event, verdict=verdict)
