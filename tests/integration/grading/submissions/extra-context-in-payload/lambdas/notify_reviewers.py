"""Notify Reviewers, reading the token from the reviewToken field its Task passes."""

from simulated_action import send


def lambda_handler(event, context):
    payload = event["input"]
    send("reviewers", {"branch": payload["branch"], "taskToken": event["reviewToken"], "note": event["note"]})
    return event
