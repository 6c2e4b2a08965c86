"""AWS: a function whose creation failed (state Failed) can be deleted, and its name reused.

LocalStack 4.14 answered DeleteFunction with 500 ("Unable to find version manager") and
kept the function (patch `delete_failed_function`).
"""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from sfnlab.deploy.functions import wait_until_ready
from sfnlab.support.polling import poll
from sfnlab.testing.functions import invoke, zip_files

ROLE = "arn:aws:iam::000000000000:role/failed-function"
CODE = zip_files({"index.py": "def handler(event, context):\n    return 'made again'\n"})


def create(lambda_client, name: str, runtime: str) -> None:
    lambda_client.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=ROLE,
        Handler="index.handler",
        Code={"ZipFile": CODE},
    )


def state(lambda_client, name: str) -> str:
    return lambda_client.get_function_configuration(FunctionName=name)["State"]


def test_function_whose_creation_failed_is_deleted_and_its_name_reused(
    lambda_client, lambda_python_version
):
    name = f"failed-{uuid.uuid4().hex[:8]}"
    # The process executor runs Python and Node.js only: a Java function's creation fails.
    create(lambda_client, name, "java21")
    assert poll(lambda: state(lambda_client, name) != "Pending", 30, max_delay=0.1)
    assert state(lambda_client, name) == "Failed"

    response = lambda_client.delete_function(FunctionName=name)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as gone:
        lambda_client.get_function(FunctionName=name)
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"

    create(lambda_client, name, "python{}.{}".format(*lambda_python_version))
    try:
        wait_until_ready(lambda_client, name)
        assert invoke(lambda_client, name)["Payload"] == "made again"
    finally:
        lambda_client.delete_function(FunctionName=name)
