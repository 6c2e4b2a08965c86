# Solution to notebook 05's exercise: full marks. One way to fill in the starter's TODOs,
# ruff: noqa: F821  (a cell of its notebook: the names come from the cells above)
# written into your copy (`my_solution`); then deployed and graded as in the notebook.
import json
import textwrap


def lambda_task(key, next_state):
    """A Task that invokes a step's Lambda with the state's input, keeping its result only."""
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "${" + key + "FunctionArn}", "Payload.$": "$"},
        "OutputPath": "$.Payload",
        "Next": next_state,
    }


definition = {
    "Comment": "Solve an issue, with a human review in the middle",
    "StartAt": "CreateCode",
    "States": {
        "CreateCode": lambda_task("CreateCode", "CreateBranch"),
        "CreateBranch": lambda_task("CreateBranch", "NotifyReviewers"),
        "NotifyReviewers": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {
                "FunctionName": "${NotifyReviewersFunctionArn}",
                "Payload": {
                    "taskToken.$": "$$.Task.Token",
                    "executionName.$": "$$.Execution.Name",
                    "executionArn.$": "$$.Execution.Id",
                    "input.$": "$",
                },
            },
            # The decision goes beside the payload, not in its place: the branch survives.
            "ResultPath": "$.review",
            "Next": "ReviewDecision",
        },
        "ReviewDecision": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.review.approved", "BooleanEquals": True, "Next": "MergeToMaster"}
            ],
            "Default": "ReviewRejected",
        },
        "ReviewRejected": {
            "Type": "Fail",
            "Error": "ReviewRejected",
            "CausePath": "$.review.summary",
        },
        "MergeToMaster": lambda_task("MergeToMaster", "CreateRelease"),
        "CreateRelease": lambda_task("CreateRelease", "NotifyOps"),
        "NotifyOps": {**lambda_task("NotifyOps", "Done"), "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}
(my_solution / "definitions" / "SolveIssueStepFunction.json").write_text(
    json.dumps(definition, indent=2)
)

handlers = {
    "create_code": """
        def lambda_handler(event, context):
            issue = event.get("issue") or {}
            code = {"commit": "c0ffee123456", "message": f"Fix {issue.get('id')}"}
            send("code", {"action": "code created", "code": code})
            return {**event, "code": code}
    """,
    "create_branch": """
        def lambda_handler(event, context):
            issue = event.get("issue") or {}
            branch = event.get("branch") or f"feature/{issue.get('id', 'ISSUE-1')}"
            send("git", {"action": "branch created", "branch": branch})
            return {**event, "branch": branch}
    """,
    "notify_reviewers": """
        def lambda_handler(event, context):
            payload = event.get("input") or {}
            send("reviewers", {
                "subject": f"Please review {payload.get('branch')}",
                "branch": payload.get("branch"),
                "taskToken": event["taskToken"],
                "execution": event.get("executionName"),
                "executionArn": event.get("executionArn"),
            })
            return event
    """,
    "merge_to_master": """
        def lambda_handler(event, context):
            merge = {"branch": event["branch"], "into": "master"}
            send("git", {"action": "merged", **merge})
            return {**event, "merge": merge}
    """,
    "create_release": """
        def lambda_handler(event, context):
            release = {"name": f"release-{event['branch'].replace('/', '-')}"}
            send("releases", {"action": "release created", "release": release})
            return {**event, "release": release}
    """,
    "notify_ops": """
        def lambda_handler(event, context):
            name = event["release"]["name"]
            send("ops", {"subject": f"Please deploy {name}", "release": name})
            return event
    """,
}
for module, body in handlers.items():
    source = "from simulated_action import send\n\n" + textwrap.dedent(body).lstrip()
    (my_solution / "lambdas" / f"{module}.py").write_text(source)

(my_solution / "lambdas" / "approve_step_with_token.py").write_text(
    textwrap.dedent(
        """
        import json

        import boto3

        stepfunctions = boto3.client("stepfunctions")


        def lambda_handler(event, context):
            approved = event["approve"] is True
            reviewer = event.get("reviewer", "a reviewer")
            verdict = "Approved" if approved else "Rejected"
            decision = {
                "approved": approved,
                "summary": f"{verdict} by {reviewer}: {event.get('comment', '')}",
            }
            stepfunctions.send_task_success(taskToken=event["token"], output=json.dumps(decision))
            return {**event, "decision": decision}
        """
    ).lstrip()
)

mine = deploy(settings, source=my_solution, prefix="mine-", state_machine_name="MySolveIssue")
print(f"Deployed: {len(mine.changed)} resources changed")
report = check_solution(settings, my_solution)
print_report(report, Console(width=110))
assert report.score == report.total, report.score
