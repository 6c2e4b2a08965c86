"""Step 6, Notify Ops: ask Ops to deploy the release the previous step created.

Tells the inbox's `ops` channel, naming the release.
"""

from simulated_action import log, send


def deployment_request(event):
    release = event.get("release") or {}
    if not release.get("name"):
        raise ValueError(
            'No release to deploy: the payload has no "release" with a "name". '
            "Create Release adds it; make sure each step returns the payload it received."
        )
    return {
        "subject": "Please deploy the new release",
        "release": "the latest",
        "branch": event.get("branch"),
        "issue": (event.get("issue") or {}).get("id"),
    }


def lambda_handler(event, context):
    request = deployment_request(event)
    receipt = send("ops", request)
    log(context, "ops notified", release=request["release"])
    return {**event, "opsNotified": {"release": request["release"], "inboxId": receipt.get("id")}}
