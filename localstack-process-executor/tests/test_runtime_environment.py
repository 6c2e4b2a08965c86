"""What a handler sees: the same Python world as in AWS's Python runtime."""

from __future__ import annotations

import base64
import re

import pytest

from sfnlab.deploy.functions import wait_until_ready
from sfnlab.errors import LearnerError
from sfnlab.testing.functions import invoke

IMPORTS = """
import json, sqlite3, urllib.request
import boto3, botocore
import helper

def handler(event, context):
    return {"boto3": boto3.__version__, "helper": helper.answer()}
"""


def test_handler_sees_stdlib_boto3_and_its_own_code(lambda_client, create_function):
    name = create_function(
        files={"lambda_function.py": IMPORTS, "helper.py": "def answer():\n    return 42\n"}
    )
    response = invoke(lambda_client, name)
    assert "FunctionError" not in response, response["Payload"]
    assert response["Payload"]["helper"] == 42
    assert response["Payload"]["boto3"]


def test_importing_a_package_aws_lacks_fails_as_on_aws(lambda_client, create_function):
    # requests is installed beside LocalStack, but AWS's Python runtime does not have it.
    name = create_function("import requests\n\ndef handler(event, context):\n    return 1\n")
    response = invoke(lambda_client, name)
    assert response["FunctionError"] == "Unhandled"
    assert response["Payload"] == {
        "errorMessage": "Unable to import module 'lambda_function': No module named 'requests'",
        "errorType": "Runtime.ImportModuleError",
        "requestId": "",
        "stackTrace": [],
    }


VERSION = """
import sys

def handler(event, context):
    return "{}.{}".format(*sys.version_info[:2])
"""


def test_runtime_runs_on_a_local_python_of_that_version(
    lambda_client, create_function, lambda_python_version
):
    version = "{}.{}".format(*lambda_python_version)
    name = create_function(VERSION, runtime=f"python{version}")
    response = invoke(lambda_client, name, LogType="Tail")
    assert response["Payload"] == version
    assert "No local Python" not in base64.b64decode(response["LogResult"]).decode()


def test_missing_version_runs_on_the_nearest_newer_and_says_so(
    lambda_client, create_function, lambda_python_version
):
    major, minor = lambda_python_version
    name = create_function(VERSION, runtime=f"python{major}.{minor - 1}")
    response = invoke(lambda_client, name, LogType="Tail")
    assert response["Payload"] == f"{major}.{minor}"
    log = base64.b64decode(response["LogResult"]).decode()
    assert f"No local Python {major}.{minor - 1} found" in log
    assert f"runs on Python {major}.{minor}" in log


def test_runtime_with_no_local_python_fails_at_creation_with_the_reason(
    lambda_client, create_function, lambda_python_version
):
    major, minor = lambda_python_version
    name = create_function(VERSION, runtime=f"python{major}.{minor + 1}", wait=False)
    with pytest.raises(LearnerError, match=f"No local Python {major}.{minor + 1} or newer"):
        wait_until_ready(lambda_client, name)
    config = lambda_client.get_function_configuration(FunctionName=name)
    assert config["State"] == "Failed"


CONTEXT = """
import os

def handler(event, context):
    return {
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "environ": dict(os.environ),
        "cwd": os.getcwd(),
    }
"""


def test_context_has_the_fields_aws_documents(lambda_client, create_function):
    name = create_function(CONTEXT, timeout=7)
    response = invoke(lambda_client, name)
    context = response["Payload"]
    assert context["function_name"] == name
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"].endswith(f":function:{name}")
    assert context["memory_limit_in_mb"] == "128"
    assert context["log_group_name"] == f"/aws/lambda/{name}"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", context["log_stream_name"])
    assert 5000 < context["remaining"] <= 7000
    assert len(context["aws_request_id"]) == 36


def test_environment_has_the_variables_aws_sets(lambda_client, create_function):
    name = create_function(CONTEXT, environment={"STAGE": "test"})
    response = invoke(lambda_client, name)
    environ, cwd = response["Payload"]["environ"], response["Payload"]["cwd"]
    for variable in (
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "TZ",
        "LANG",
        "PATH",
    ):
        assert environ.get(variable), f"{variable} is not set"
    assert environ["AWS_EXECUTION_ENV"].startswith("AWS_Lambda_python3.")
    assert environ["_HANDLER"] == "lambda_function.handler"
    assert environ["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert environ["STAGE"] == "test"
    assert cwd == environ["LAMBDA_TASK_ROOT"]
    assert not any(key.startswith("_PROCESS_EXECUTOR") for key in environ)
    # LocalStack's wiring of its own runtime is taken away, as its init binary does.
    assert not [
        key for key in environ if key.startswith("LOCALSTACK_") and key != "LOCALSTACK_HOSTNAME"
    ]
