"""Step 2, Create Branch: the code goes on a branch of its own.

TODO: Add `branch` (its name: from the start event, or made from the issue) to the payload,
tell the inbox (`send("git", {...})`), and return the payload plus `branch`.
"""

from simulated_action import log, send  # noqa: F401  (you will need them)


def lambda_handler(event, context):
    raise NotImplementedError("TODO: write create_branch.lambda_handler")
