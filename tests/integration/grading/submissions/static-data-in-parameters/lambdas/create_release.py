from simulated_action import send


def lambda_handler(event, context):
    send("releases", {"action": "release created", "release": event["release"]["name"]})
    return event
