from simulated_action import send


def lambda_handler(event, context):
    send("git", {"action": "branch created", "branch": event["branch"]})
    return event
