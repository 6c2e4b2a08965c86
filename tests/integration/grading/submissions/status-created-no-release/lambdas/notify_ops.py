from simulated_action import send


def lambda_handler(event, context):
    send("ops", {"text": "release created", "status": event.get("status")})
    return event
