# Solution to notebook 05's exercise: full marks. One way to fill in the starter's TODOs,
# ruff: noqa: F821  (a cell of its notebook: the names come from the cells above)
# written into your copy (`my_solution`), in the notebook's LANGUAGE; then deployed and
# graded as in the notebook.
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

if LANGUAGE == "javascript":
    # The same handlers in JavaScript: `handler` exported from each step's file.
    handlers = {
        "createCode": """
            exports.handler = async (event) => {
              const issue = event.issue || {};
              const code = { commit: 'c0ffee123456', message: `Fix ${issue.id}` };
              await send('code', { action: 'code created', code });
              return { ...event, code };
            };
        """,
        "createBranch": """
            exports.handler = async (event) => {
              const issue = event.issue || {};
              const branch = event.branch || `feature/${issue.id ?? 'ISSUE-1'}`;
              await send('git', { action: 'branch created', branch });
              return { ...event, branch };
            };
        """,
        "notifyReviewers": """
            exports.handler = async (event) => {
              const payload = event.input || {};
              await send('reviewers', {
                subject: `Please review ${payload.branch}`,
                branch: payload.branch,
                taskToken: event.taskToken,
                execution: event.executionName,
                executionArn: event.executionArn,
              });
              return event;
            };
        """,
        "mergeToMaster": """
            exports.handler = async (event) => {
              const merge = { branch: event.branch, into: 'master' };
              await send('git', { action: 'merged', ...merge });
              return { ...event, merge };
            };
        """,
        "createRelease": """
            exports.handler = async (event) => {
              const release = { name: `release-${event.branch.replaceAll('/', '-')}` };
              await send('releases', { action: 'release created', release });
              return { ...event, release };
            };
        """,
        "notifyOps": """
            exports.handler = async (event) => {
              const name = event.release.name;
              await send('ops', { subject: `Please deploy ${name}`, release: name });
              return event;
            };
        """,
    }
    for name, body in handlers.items():
        source = "const { send } = require('./simulatedAction');\n\n"
        (my_solution / "lambdas" / f"{name}.js").write_text(source + textwrap.dedent(body).lstrip())

    (my_solution / "lambdas" / "approveStepWithToken.js").write_text(
        textwrap.dedent(
            """
            const { SFNClient, SendTaskSuccessCommand } = require('@aws-sdk/client-sfn');

            const stepFunctions = new SFNClient({});

            exports.handler = async (event) => {
              const approved = event.approve === true;
              const verdict = approved ? 'Approved' : 'Rejected';
              const decision = {
                approved,
                summary: `${verdict} by ${event.reviewer ?? 'a reviewer'}: ${event.comment ?? ''}`,
              };
              const output = JSON.stringify(decision);
              const taskToken = event.token;
              await stepFunctions.send(new SendTaskSuccessCommand({ taskToken, output }));
              return { ...event, decision };
            };
            """
        ).lstrip()
    )
else:
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
                output = json.dumps(decision)
                stepfunctions.send_task_success(taskToken=event["token"], output=output)
                return {**event, "decision": decision}
            """
        ).lstrip()
    )

mine = deploy(settings, source=my_solution, prefix="mine-", state_machine_name="MySolveIssue")
print(f"Deployed: {len(mine.changed)} resources changed")
report = check_solution(settings, my_solution)
print_report(report, Console(width=110))
assert report.score == report.total, report.score
