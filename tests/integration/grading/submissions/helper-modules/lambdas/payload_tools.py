"""The learner's own helpers: every step extends the payload the same way."""

from simulated_action import send


def extended(event, channel, message, **added):
    send(channel, message)
    return {**event, **added}
