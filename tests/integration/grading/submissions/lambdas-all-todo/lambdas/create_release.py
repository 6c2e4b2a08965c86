"""Step 5, Create Release: a release is cut from master after the merge.

TODO: Add `release` (with a `name`) to the payload, tell the inbox (`send("releases", ...)`),
and return the payload plus `release`.
"""

from simulated_action import log, send  # noqa: F401  (you will need them)


def lambda_handler(event, context):
    raise NotImplementedError("TODO: write create_release.lambda_handler")
