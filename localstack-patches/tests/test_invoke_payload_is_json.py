"""AWS: Invoke with a payload that is not JSON is refused (400 InvalidRequestContentException)
before any function runs. LocalStack 4.14 ran the function, which failed on its event
(patch `invoke_payload_is_json`)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

MARKER = "handler ran"


@pytest.fixture
def echo(create_function):
    return create_function(
        f"def handler(event, context):\n    print({MARKER!r})\n    return event\n"
    )


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        (b"test data", "Unrecognized token 'test': was expecting (JSON String, Number, Array"),
        (b"{'a': 1}", "Expecting property name enclosed in double quotes"),
        (b'{"a": 1', "Expecting ',' delimiter"),
        (b"\xff\xfe", "'utf-8' codec can't decode"),
    ],
)
@pytest.mark.parametrize("invocation_type", ["RequestResponse", "Event"])
def test_a_payload_that_is_not_json_is_refused(
    lambda_client, echo, payload, detail, invocation_type
):
    with pytest.raises(ClientError) as refused:
        lambda_client.invoke(FunctionName=echo, Payload=payload, InvocationType=invocation_type)
    error = refused.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "InvalidRequestContentException"
    assert error["Error"]["Message"].startswith(
        "Could not parse request body into json: Could not parse payload into json: "
    )
    assert detail in error["Error"]["Message"]


@pytest.mark.parametrize("payload", [b'"a string"', b"123", b"null", b"[1, 2]", b' {"a": 1} '])
def test_any_json_document_is_a_payload(lambda_client, echo, payload):
    response = lambda_client.invoke(FunctionName=echo, Payload=payload, LogType="Tail")
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == json.loads(payload)
