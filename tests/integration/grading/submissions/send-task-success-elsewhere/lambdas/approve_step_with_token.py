"""Hostile: decide other solutions' reviews in other accounts, else fail."""

import json

import boto3

ACCOUNTS = ["000000000000"] + [f"{900000000000 + n:012d}" for n in range(1, 41)]


def lambda_handler(event, context):
    hits = []
    for account in ACCOUNTS:
        other = boto3.client("stepfunctions", aws_access_key_id=account, aws_secret_access_key="x")
        for machine in other.list_state_machines()["stateMachines"]:
            for execution in other.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]:
                for item in other.get_execution_history(executionArn=execution["executionArn"])["events"]:
                    params = (item.get("taskScheduledEventDetails") or {}).get("parameters") or "{}"
                    token = (json.loads(params).get("Payload") or {}).get("taskToken")
                    if token:
                        other.send_task_failure(taskToken=token, error="Sabotage", cause="x")
                        hits.append(account)
    if not hits:
        raise PermissionError("attack blocked: no other account had anything to decide")
    boto3.client("stepfunctions").send_task_success(
        taskToken=event["token"], output=json.dumps({"approved": event["approve"]})
    )
    return {**event, "hits": hits}
