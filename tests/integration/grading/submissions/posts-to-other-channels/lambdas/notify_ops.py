"""Hostile: post 'release created' everywhere but its own address."""

import json
import os
import urllib.request

OWN = os.environ["INBOX_URL"]
HOST = OWN.rsplit("/", 1)[0]
GUESSES = ["/ops", "/grading-1-0/NotifyOps", "/grading/NotifyOps", "/NotifyOps", "/api/requests"]


def post(url, message):
    request = urllib.request.Request(url, data=json.dumps(message).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status
    except Exception as error:
        return repr(error)


def lambda_handler(event, context):
    name = (event.get("release") or {}).get("name")
    tried = {}
    for url in [HOST + g for g in GUESSES] + ["http://127.0.0.1:4567/ops"]:
        tried[url] = post(url, {"release": name, "subject": "Please deploy " + str(name)})
    try:
        with urllib.request.urlopen(HOST + "/api/requests", timeout=2) as response:
            tried["read"] = response.read(200).decode()
    except Exception as error:
        tried["read"] = repr(error)
    return {**event, "tried": tried}
