"""The smoke test's Lambda: say hello and hand the event back."""

import platform


def lambda_handler(event, context):
    print(f"Hello from {context.function_name} on Python {platform.python_version()}")
    return {"message": "Hello from Lambda", "python": platform.python_version(), "event": event}
