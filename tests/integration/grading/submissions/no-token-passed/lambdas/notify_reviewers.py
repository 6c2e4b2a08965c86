from simulated_action import send


def lambda_handler(event, context):
    send("reviewers", {"branch": event.get("branch"), "taskToken": event.get("taskToken")})
    return event
