"""AWS's refusals read as sentences, with the hint after them."""

from __future__ import annotations

from botocore.exceptions import ClientError

from sfnlab.explain import explained


def refused(message: str) -> str:
    error = ClientError({"Error": {"Code": "ServiceUnavailable", "Message": message}}, "Deploy")
    return str(explained(error))


def test_a_refusal_ends_its_sentence_before_the_hint():
    assert refused("503: Service Unavailable") == (
        "Deploy was refused: ServiceUnavailable: 503: Service Unavailable. "
        "`sfnlab logs` shows what LocalStack made of it."
    )


def test_a_refusal_that_ends_its_sentence_keeps_it():
    assert refused("The token is not valid.").startswith(
        "Deploy was refused: ServiceUnavailable: The token is not valid. `sfnlab logs`"
    )


def test_a_refusal_without_a_message_names_the_code():
    assert refused("").startswith("Deploy was refused: ServiceUnavailable. `sfnlab logs`")
