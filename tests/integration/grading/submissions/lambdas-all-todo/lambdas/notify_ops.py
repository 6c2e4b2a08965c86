"""Step 6, Notify Ops: ask Ops to deploy the release the previous step created.

TODO: Tell the inbox's `ops` channel (`send("ops", {...})`), naming the release, and return
the payload.
"""

from simulated_action import log, send  # noqa: F401  (you will need them)


def lambda_handler(event, context):
    raise NotImplementedError("TODO: write notify_ops.lambda_handler")
