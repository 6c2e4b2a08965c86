"""Step 1, Create Code: somebody writes the code that solves the issue.

TODO: Add `code` to the payload (a commit id, its author, a message: static data will do),
tell the inbox's `code` channel with `send("code", {...})`, and return the payload
you received plus `code`.
"""

from simulated_action import log, send  # noqa: F401  (you will need them)


def lambda_handler(event, context):
    raise NotImplementedError("TODO: write create_code.lambda_handler")
