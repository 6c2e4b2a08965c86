"""Step 4, Merge To Master: the approved branch is merged, by its name.

TODO: Take the branch name from the payload, tell the inbox (`send("git", {...})`) which
branch was merged, and return the payload plus what you merged.
"""

from simulated_action import log, send  # noqa: F401  (you will need them)


def lambda_handler(event, context):
    raise NotImplementedError("TODO: write merge_to_master.lambda_handler")
