from simulated_action import send


def lambda_handler(event, context):
    send("releases", {"status": "created"})
    return {**event, "status": "created"}
