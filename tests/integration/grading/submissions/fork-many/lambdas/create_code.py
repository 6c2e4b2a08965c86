"""Hostile: start 300 long-lived processes, else fail."""

import os


def lambda_handler(event, context):
    started = 0
    for _ in range(300):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            os.execv("/bin/sleep", ["sleep", "234.5"])
        started += 1
    if started < 300:
        raise PermissionError(f"attack blocked: only {started} processes could start")
    return {**event, "code": {"processes": started}}
