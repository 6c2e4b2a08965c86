"""A Lambda's code cannot stop, restart or reconfigure LocalStack, or read other accounts,
through LocalStack's own endpoints (patches `internal_endpoints_closed`,
`lambda_code_private`; the process executor's per-environment secret), and the kit's own
operations still work.

Not an AWS behaviour: AWS has no such endpoints. LocalStack 4.14.0 serves them on its
gateway to whoever reaches it; `docs/reference/localstack-endpoints.md` lists each one.
Every attack here is sent from inside a real Lambda function run by the process
executor, on a LocalStack of this module's own started with the settings that open even
more of them (ENABLE_CONFIG_UPDATES, DEBUG): if a patch regressed, only this LocalStack
would go down.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import psutil
import pytest
import requests
from botocore.exceptions import ClientError
from localstack_python import in_localstack
from own_localstacks import start_localstack

from sfnlab.deploy.functions import wait_until_ready
from sfnlab.grading import grade_solution
from sfnlab.lab import lifecycle
from sfnlab.lab.run_exercise import run_exercise
from sfnlab.localstack import embedded
from sfnlab.localstack.probe import probe
from sfnlab.settings import PROJECT_ROOT, Settings
from sfnlab.support.aws import client
from sfnlab.testing.functions import invoke, zip_files
from sfnlab.testing.nodejs_runtime_api import node_or_skip

VICTIM_ACCOUNT = "111111111111"
ATTACKER_ACCOUNT = "222222222222"
CODE_BUCKET = "awslambda-us-east-1-tasks"

# Sends each request it is given to LocalStack, byte for byte (http.client: no path
# clean-up on the way), and says what came back.
REQUESTS = """
import http.client, json, os
from urllib.parse import urlsplit

def handler(event, context):
    endpoint = urlsplit(os.environ["AWS_ENDPOINT_URL"])
    answers = []
    for method, path, body in event["requests"]:
        connection = http.client.HTTPConnection(endpoint.hostname, endpoint.port, timeout=10)
        try:
            connection.request(method, path, body=json.dumps(body) if body is not None else None,
                               headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            answers.append([response.status, response.read(300).decode("utf-8", "replace")])
        except Exception as error:
            answers.append([0, repr(error)])
        finally:
            connection.close()
    return answers
"""

MINE = "def handler(event, context):\n    return 'mine'\n"
# Reads the code of every account's functions through the AWS API, as any account.
CODE_READER = """
import boto3

def handler(event, context):
    tried = {}
    for account in event["accounts"]:
        s3 = boto3.client("s3", aws_access_key_id=account, aws_secret_access_key="x",
                          region_name="us-east-1")
        try:
            listed = s3.list_objects_v2(Bucket=event["bucket"])
            tried[account] = [item["Key"] for item in listed.get("Contents", [])]
        except Exception as error:
            code = getattr(error, "response", {}).get("Error", {}).get("Code")
            tried[account] = code or repr(error)
    return tried
"""


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory, lambda_interpreter) -> Iterator[Settings]:
    """A LocalStack of this module's own, with its config and diagnose endpoints switched on."""
    kit = start_localstack(tmp_path_factory.mktemp("guarded"), ENABLE_CONFIG_UPDATES="1", DEBUG="1")
    yield kit
    lifecycle.down(kit)


@pytest.fixture(scope="module")
def make_function(guarded, lambda_python_version) -> Callable[..., str]:
    """Factory: a function of `account` running `source` on the guarded LocalStack, ready."""

    def make(source: str, account: str, **environment: str) -> str:
        lam = client("lambda", replace(guarded, account_id=account))
        name = f"fn-{uuid.uuid4().hex[:8]}"
        lam.create_function(
            FunctionName=name,
            Runtime="python{}.{}".format(*lambda_python_version),
            Role=f"arn:aws:iam::{account}:role/endpoint-test",
            Handler="lambda_function.handler",
            Code={"ZipFile": zip_files({"lambda_function.py": source})},
            Timeout=30,
            Environment={"Variables": environment},
        )
        wait_until_ready(lam, name)
        return name

    return make


@pytest.fixture(scope="module")
def send_from_lambda(guarded, make_function) -> Callable[[list], list]:
    """What LocalStack answers each (method, path, body), sent by a function of the
    attacker's account."""
    name = make_function(REQUESTS, ATTACKER_ACCOUNT)
    lam = client("lambda", replace(guarded, account_id=ATTACKER_ACCOUNT))

    def send(requests: list[tuple[str, str, object]]) -> list:
        response = invoke(lam, name, {"requests": requests})
        assert "FunctionError" not in response, response["Payload"]
        return response["Payload"]

    return send


def localstack_pid(kit: Settings) -> int:
    return embedded.running_embedded(kit).pid


def refusals(kit: Settings) -> list[str]:
    return [line for line in kit.log_file.read_text().splitlines() if "sfnlab refused" in line]


STOP_AND_RECONFIGURE = [
    ("POST", "/_localstack/health", {"action": "kill"}),
    ("POST", "/_localstack/health", {"action": "restart"}),
    ("PUT", "/_localstack/health", {"version": "0.0.1", "services": {"lambda": "error"}}),
    ("POST", "/_localstack/config", {"variable": "LAMBDA_RUNTIME_EXECUTOR", "value": "docker"}),
    # The same kill, spelled as a router that merges slashes and dots, or ignores case, reads it.
    ("POST", "//_localstack/health", {"action": "kill"}),
    ("POST", "/_localstack/./health", {"action": "kill"}),
    ("POST", "/_localstack/x/../health", {"action": "kill"}),
    ("POST", "/_LOCALSTACK/Health", {"action": "kill"}),
    ("POST", "/%5Flocalstack/health", {"action": "kill"}),
    ("POST", "/_localstack/health/", {"action": "kill"}),
    ("POST", "/_localstack/health?action=kill", {"action": "kill"}),
]


def test_a_lambda_cannot_stop_restart_or_reconfigure_localstack(guarded, send_from_lambda):
    pid = localstack_pid(guarded)
    health_before = client_health(guarded)
    answers = send_from_lambda(STOP_AND_RECONFIGURE)
    assert [status for status, _ in answers] == [403] * len(STOP_AND_RECONFIGURE), answers
    assert "is closed on this LocalStack" in answers[0][1]
    # Still the same process, answering as before, with Lambdas still run by the process
    # executor (LAMBDA_RUNTIME_EXECUTOR unchanged).
    assert localstack_pid(guarded) == pid and psutil.pid_exists(pid)
    assert probe(guarded.endpoint).version == "4.14.0"
    assert client_health(guarded) == health_before
    assert lifecycle.status(guarded).lambda_executor == "process"
    # Each refusal is one line naming the function that sent it (the grader reads them).
    lines = refusals(guarded)
    assert any(
        f"sfnlab refused POST /_localstack/health from arn:aws:lambda:us-east-1:"
        f"{ATTACKER_ACCOUNT}:function:" in line
        for line in lines
    ), lines


def client_health(kit: Settings) -> dict:
    document = requests.get(f"{kit.endpoint}/_localstack/health", timeout=10).json()
    return {"version": document["version"], "lambda": document["services"]["lambda"]}


READ_ANY_ACCOUNT = [
    ("GET", "/_aws/cloudwatch/metrics/raw", None),
    ("GET", f"/_aws/sqs/messages/us-east-1/{VICTIM_ACCOUNT}/victim-queue", None),
    ("POST", f"/_aws/sqs/messages/us-east-1/{VICTIM_ACCOUNT}/victim-queue", None),
    ("GET", "/_localstack/config", None),
    ("GET", "/_localstack/diagnose", None),
    ("GET", "/_localstack/usage", None),
    ("GET", "/_localstack/info", None),
    ("GET", "/_localstack/plugins", None),
    ("GET", "/_localstack/init", None),
    ("GET", "/_localstack/init/ready", None),
    ("GET", "/_localstack/swagger", None),
    ("GET", "/openapi.yaml", None),
    ("GET", "/_aws/lambda/runtimes", None),
    ("GET", "/_aws/lambda/init", None),
    ("GET", "/_aws/ses", None),
    ("DELETE", "/_aws/ses", None),
    ("GET", "/_aws/sns/sms-messages", None),
    ("POST", "/_aws/events/rules/arn:aws:events:us-east-1:111111111111:rule/r/trigger", None),
    ("DELETE", "/_aws/dynamodb/expired", None),
]


@pytest.fixture(scope="module")
def victim_queue(guarded) -> str:
    """A queue of another account, holding a message, and that account's metrics."""
    sqs = client("sqs", replace(guarded, account_id=VICTIM_ACCOUNT))
    url = sqs.create_queue(QueueName="victim-queue")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="a classmate's message")
    return url


def test_a_lambda_cannot_read_other_accounts_through_localstacks_endpoints(
    guarded, victim_queue, send_from_lambda
):
    requests = [
        *READ_ANY_ACCOUNT,
        ("GET", f"/_aws/sqs/messages?QueueUrl={victim_queue}", None),
    ]
    answers = send_from_lambda(requests)
    assert [status for status, _ in answers] == [403] * len(requests), answers
    assert all(text.startswith('{"message": ') for _, text in answers)  # the refusal only
    assert not any("classmate" in text for _, text in answers)
    # The message is where it was, for its own account.
    sqs = client("sqs", replace(guarded, account_id=VICTIM_ACCOUNT))
    messages = sqs.receive_message(QueueUrl=victim_queue).get("Messages", [])
    assert [m["Body"] for m in messages] == ["a classmate's message"]


def test_the_health_document_and_api_gateway_urls_stay_open(send_from_lambda):
    answers = send_from_lambda(
        [
            ("GET", "/_localstack/health", None),
            ("HEAD", "/_localstack/health", None),
            ("GET", "/_aws/execute-api/nosuchapi/stage/path", None),
        ],
    )
    assert answers[0][0] == 200 and '"services"' in answers[0][1]
    assert answers[1][0] == 200
    assert answers[2][0] != 403  # API Gateway's own answer (no such API here)


def test_no_account_can_list_every_accounts_lambda_code(guarded, make_function):
    """LocalStack keeps every function's code in one bucket of its internal account; as
    any account (the internal one included), a function could list it: every account id
    that has a function, and its code. Only its own code is any function's business, by
    GetFunction's Code.Location."""
    victim = make_function(MINE, VICTIM_ACCOUNT)
    reader = make_function(CODE_READER, ATTACKER_ACCOUNT)
    lam = client("lambda", replace(guarded, account_id=ATTACKER_ACCOUNT))
    accounts = [ATTACKER_ACCOUNT, VICTIM_ACCOUNT, "949334387222", "000000000000"]
    tried = invoke(lam, reader, {"accounts": accounts, "bucket": CODE_BUCKET})["Payload"]
    assert tried == dict.fromkeys(accounts, "AccessDenied")
    # The victim's own GetFunction still hands it its code; its function still runs.
    victim_lambda = client("lambda", replace(guarded, account_id=VICTIM_ACCOUNT))
    location = victim_lambda.get_function(FunctionName=victim)["Code"]["Location"]
    assert requests.get(location, timeout=10).content[:2] == b"PK"
    assert invoke(victim_lambda, victim)["Payload"] == "mine"
    assert any(
        f"ListObjectsV2 of bucket {CODE_BUCKET} from arn:" in line for line in refusals(guarded)
    )


def test_the_code_bucket_refuses_listing_from_outside_too(guarded):
    s3 = client("s3", replace(guarded, account_id="949334387222"))
    with pytest.raises(ClientError) as refused:
        s3.list_objects_v2(Bucket=CODE_BUCKET)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError):
        s3.put_object(Bucket=CODE_BUCKET, Key="snapshots/x", Body=b"planted")


# The victim leaks its own ids where the attacker reads them: the worst case, an attacker
# that knows the environment's id (LocalStack puts it in the log stream's name), the
# invocation in progress and the environment's own port (its Runtime API, for Node.js).
VICTIM = """
import json, os, time

def handler(event, context):
    with open(os.environ["LEAK"], "w") as leak:
        runtime = context.log_stream_name.rpartition("]")[2]
        ids = {"runtime": runtime, "request": context.aws_request_id,
               "api": os.environ["AWS_LAMBDA_RUNTIME_API"]}
        json.dump(ids, leak)
    time.sleep(event.get("sleep", 4))
    return {"answer": "the victim's own", "event": event.get("mark")}
"""
NODE_VICTIM = """
const fs = require('node:fs');

exports.handler = async (event, context) => {
  const ids = {
    runtime: context.logStreamName.split(']').pop(),
    request: context.awsRequestId,
    api: process.env.AWS_LAMBDA_RUNTIME_API,
  };
  fs.writeFileSync(process.env.LEAK, JSON.stringify(ids));
  await new Promise((done) => setTimeout(done, (event.sleep ?? 4) * 1000));
  return { answer: "the victim's own", event: event.mark ?? null };
};
"""
FORGER = """
import json, os, socket, time, urllib.request, urllib.error

def send(url, body=None, method="POST", timeout=10):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return [response.status, response.read(300).decode()]
    except urllib.error.HTTPError as error:
        try:  # the refusal's errorType, if it says one
            return [error.code, json.loads(error.read()).get("errorType")]
        except ValueError:
            return [error.code, None]
    except (socket.timeout, TimeoutError, urllib.error.URLError) as error:
        return [0, repr(error)]

def handler(event, context):
    for _ in range(100):
        if os.path.exists(os.environ["LEAK"]) and os.path.getsize(os.environ["LEAK"]):
            break
        time.sleep(0.1)
    with open(os.environ["LEAK"]) as leak:
        ids = json.load(leak)
    api = "http://" + ids["api"]
    runtime_api = api + "/2018-06-01/runtime"
    if event.get("steal"):  # the victim is idle: take its next invocation
        return {"next": send(runtime_api + "/invocation/next", method="GET", timeout=5)}
    base = os.environ["AWS_ENDPOINT_URL"] + "/_localstack_lambda/" + ids["runtime"]
    forged = {"answer": "forged"}
    invocation = {"invoke-id": "forged", "invoked-function-arn": "x", "payload": "{}"}
    answers = {
        "response": send(f"{base}/invocations/{ids['request']}/response", forged),
        "error": send(f"{base}/invocations/{ids['request']}/error", {"errorType": "Forged"}),
        "logs": send(f"{base}/invocations/{ids['request']}/logs", {"logs": "forged"}),
        "status_error": send(f"{base}/status/{ids['runtime']}/error", {"errorType": "Forged"}),
        "status_ready": send(f"{base}/status/{ids['runtime']}/ready", {}),
        "invoke": send(api + "/invoke", invocation),
    }
    if event.get("nodejs"):  # the keeper's Runtime API
        request = runtime_api + "/invocation/" + ids["request"]
        answers.update({
            "runtime_next": send(runtime_api + "/invocation/next", method="GET", timeout=5),
            "runtime_response": send(request + "/response", forged),
            "runtime_error": send(request + "/error", {"errorType": "Forged"}),
            "runtime_init_error": send(runtime_api + "/init/error", {"errorType": "Forged"}),
        })
    return answers
"""


@pytest.fixture(scope="module")
def make_node_function(guarded) -> Callable[..., str]:
    """Factory: a Node.js function of `account` running `source` (its index.js), ready."""
    node_or_skip()

    def make(source: str, account: str, **environment: str) -> str:
        lam = client("lambda", replace(guarded, account_id=account))
        name = f"fn-{uuid.uuid4().hex[:8]}"
        lam.create_function(
            FunctionName=name,
            Runtime="nodejs20.x",
            Role=f"arn:aws:iam::{account}:role/endpoint-test",
            Handler="index.handler",
            Code={"ZipFile": zip_files({"index.js": source})},
            Timeout=30,
            Environment={"Variables": environment},
        )
        wait_until_ready(lam, name)
        return name

    return make


@pytest.fixture(params=["python", "nodejs"])
def victim(request, make_function, tmp_path: Path) -> tuple[str, str, Path]:
    """A victim of either runtime: (its language, its name, the file it leaks its ids to)."""
    leak = tmp_path / "leak.json"
    if request.param == "nodejs":
        name = request.getfixturevalue("make_node_function")(
            NODE_VICTIM, VICTIM_ACCOUNT, LEAK=str(leak)
        )
    else:
        name = make_function(VICTIM, VICTIM_ACCOUNT, LEAK=str(leak))
    return request.param, name, leak


def test_a_function_cannot_answer_for_another_functions_invocation(guarded, make_function, victim):
    """Even knowing the other environment's id, its invocation's request id and its port,
    a forged report, invocation or Runtime API request is refused (403, nothing done) and
    the invocation gets its own function's answer."""
    language, name, leak = victim
    forger = make_function(FORGER, ATTACKER_ACCOUNT, LEAK=str(leak))
    answered: dict = {}
    victim_lambda = client("lambda", replace(guarded, account_id=VICTIM_ACCOUNT))
    running = threading.Thread(
        target=lambda: answered.update(invoke(victim_lambda, name, {"sleep": 4, "mark": 1}))
    )
    running.start()
    attacker = client("lambda", replace(guarded, account_id=ATTACKER_ACCOUNT))
    forged = invoke(attacker, forger, {"nodejs": language == "nodejs"})
    running.join(timeout=60)
    # LocalStack's endpoint refuses without a word; the environment's port says why.
    expected = dict.fromkeys(["response", "error", "logs", "status_error", "status_ready"])
    own_port = ["invoke"]
    if language == "nodejs":
        own_port += ["runtime_next", "runtime_response", "runtime_error", "runtime_init_error"]
    expected = {name: [403, None] for name in expected} | {
        name: [403, "AccessDenied"] for name in own_port
    }
    assert forged["Payload"] == expected
    assert answered["Payload"] == {"answer": "the victim's own", "event": 1}
    assert "FunctionError" not in answered
    # The victim's environment is unharmed: its next invocation is answered too.
    again = invoke(victim_lambda, name, {"sleep": 0, "mark": 2})["Payload"]
    assert again == {"answer": "the victim's own", "event": 2}


def test_a_function_cannot_take_another_nodejs_functions_next_invocation(
    guarded, make_function, make_node_function, tmp_path: Path
):
    """An idle Node.js environment's runtime waits for its next invocation on the keeper's
    Runtime API, on the loopback: another function asking there too is refused at once,
    and every invocation, with its event, still goes to its own function."""
    leak = tmp_path / "leak.json"
    name = make_node_function(NODE_VICTIM, VICTIM_ACCOUNT, LEAK=str(leak))
    victim_lambda = client("lambda", replace(guarded, account_id=VICTIM_ACCOUNT))
    assert invoke(victim_lambda, name, {"sleep": 0, "mark": 1})["Payload"]["event"] == 1
    forger = make_function(FORGER, ATTACKER_ACCOUNT, LEAK=str(leak))
    attacker = client("lambda", replace(guarded, account_id=ATTACKER_ACCOUNT))
    assert invoke(attacker, forger, {"steal": True})["Payload"] == {"next": [403, "AccessDenied"]}
    for mark in (2, 3):
        answer = invoke(victim_lambda, name, {"sleep": 0, "mark": mark})
        assert answer["Payload"] == {"answer": "the victim's own", "event": mark}


def test_the_kits_own_operations_still_work_after_the_attacks(guarded, send_from_lambda):
    """After every attack above: the health probe, a deploy, both paths of the exercise,
    and the grader (the kit's reference solution scores 100) on the same LocalStack."""
    send_from_lambda(STOP_AND_RECONFIGURE[:2])
    assert probe(guarded.endpoint) is not None
    approved = run_exercise(guarded, approve=True)
    assert approved.as_expected, approved.execution
    rejected = run_exercise(guarded, approve=False)
    assert rejected.as_expected, rejected.execution
    report = grade_solution(PROJECT_ROOT, guarded)
    assert report.score == 100, [v.feedback for v in report.verdicts if not v.passed]


# LocalStack 4.14.0 as shipped, without the patch: its router serves each of these, and
# the kill and restart reach the code that stops LocalStack. Run in LocalStack's own
# Python with what would stop it replaced by a recorder; no server is started.
AS_SHIPPED = """
import json, os
os.environ["ENABLE_CONFIG_UPDATES"] = "1"
os.environ["DEBUG"] = "1"
import localstack.runtime
import localstack.services.internal as internal
from localstack.http import Request, Router
from localstack.http.dispatcher import handler_dispatcher
from localstack.services.cloudwatch.provider_v2 import PATH_GET_RAW_METRICS
from localstack.services.lambda_.custom_endpoints import LambdaCustomEndpoints
from localstack.services.lambda_.invocation.executor_endpoint import ExecutorRouter
from localstack.services.sqs.developer_api import SqsDeveloperApi
from werkzeug.exceptions import NotFound

stopped = []
class Runtime:
    def exit(self, code):
        stopped.append("exit")
localstack.runtime.get_current_runtime = lambda: Runtime()
internal.signal_supervisor_restart = lambda: stopped.append("restart")

resources = internal.LocalstackResources()
for action in ("kill", "restart"):
    resources.dispatch(Request("POST", "/_localstack/health", body=json.dumps({"action": action})))
served = {}
for method, path in json.loads(os.environ["PROBES"]):
    try:
        resources.dispatch(Request(method, path.split("?")[0]))
        served[method + " " + path] = True
    except NotFound:
        served[method + " " + path] = False
    except Exception:
        served[method + " " + path] = True  # found, and failed outside a running LocalStack
router = Router(dispatcher=handler_dispatcher())
router.add(SqsDeveloperApi())
router.add(LambdaCustomEndpoints())
router.add(ExecutorRouter())
router.add(PATH_GET_RAW_METRICS, lambda request: {})
paths = sorted(rule.rule for rule in router.url_map.iter_rules())
print(json.dumps({"stopped": stopped, "served": served, "paths": paths}))
"""


def test_localstack_as_shipped_stops_when_told_and_serves_every_one_of_them(monkeypatch):
    """The defect itself: unpatched, LocalStack 4.14.0 exits on POST {"action": "kill"}
    and restarts on "restart", and serves its config, diagnose and developer endpoints.
    When LocalStack closes them itself, this fails: the patch is then no longer needed."""
    probes = [
        ("PUT", "/_localstack/health"),
        ("GET", "/_localstack/config"),
        ("POST", "/_localstack/config"),
        ("GET", "/_localstack/diagnose"),
        ("GET", "/_localstack/info"),
        ("GET", "/_localstack/plugins"),
        ("GET", "/_localstack/init"),
        ("GET", "/_localstack/init/ready"),
    ]
    monkeypatch.setenv("PROBES", json.dumps(probes))
    found = in_localstack(AS_SHIPPED)
    assert found["stopped"] == ["exit", "restart"]
    assert found["served"] == {f"{m} {p}": True for m, p in probes}
    assert {
        "/_aws/cloudwatch/metrics/raw",
        "/_aws/sqs/messages",
        "/_aws/sqs/messages/<region>/<account_id>/<queue_name>",
        "/_aws/lambda/runtimes",
        "/_aws/lambda/init",
        "/_localstack_lambda/<executor_id>/invocations/<req_id>/response",
        "/_localstack_lambda/<env_id>/status/<executor_id>/error",
    } <= set(found["paths"])
