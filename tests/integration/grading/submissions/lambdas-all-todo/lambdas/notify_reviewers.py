"""Step 3, Notify Reviewers: ask for a review, then wait for a human decision.

TODO: This step runs as `lambda:invoke.waitForTaskToken`: the state machine passes the task
token (`$$.Task.Token`) in the event. Send the reviewers (`send("reviewers", {...})`)
the branch name, the token and the execution's name.
"""

from simulated_action import log, send  # noqa: F401  (you will need them)


def lambda_handler(event, context):
    raise NotImplementedError("TODO: write notify_reviewers.lambda_handler")
