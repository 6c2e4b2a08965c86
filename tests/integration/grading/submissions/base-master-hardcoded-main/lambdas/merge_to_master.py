from simulated_action import send


def lambda_handler(event, context):
    send("git", {"action": "merged", "branch": "main", "into": event.get("base", "master")})
    return {**event, "merge": {"branch": "main"}}
