"""Node.js functions on the embedded LocalStack behave as on AWS's Node.js runtimes.

Handler forms, async and callback handlers, the context and the environment, warm reuse,
errors and crashes, time-outs, huge output, logs. (The client's finer points are tested
without LocalStack in tests/unit/test_nodejs_runtime_client.py.)
"""

from __future__ import annotations

import base64
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import psutil
import pytest
from botocore.config import Config

from sfnlab.deploy.functions import wait_until_ready
from sfnlab.testing.functions import invoke
from sfnlab.testing.waiting import wait_for

INTROSPECT = """
let invocations = 0;
exports.handler = async (event, context) => ({
  invocations: ++invocations,
  pid: process.pid,
  env: process.env,
  cwd: process.cwd(),
  argv: process.execArgv,
  node: process.versions.node,
  context: JSON.parse(JSON.stringify(context)),
  remaining: context.getRemainingTimeInMillis(),
  offset: new Date('2026-06-01T00:00:00Z').getTimezoneOffset(),
});
"""


def log_tail(response: dict) -> str:
    return base64.b64decode(response["LogResult"]).decode()


@pytest.mark.parametrize("runtime", ["nodejs20.x", "nodejs22.x"])
def test_a_function_runs_and_stays_warm(lambda_client, create_node_function, runtime):
    name = create_node_function(INTROSPECT, runtime=runtime, timeout=7)
    first = invoke(lambda_client, name, LogType="Tail")
    second = invoke(lambda_client, name, LogType="Tail")
    one, two = first["Payload"], second["Payload"]
    assert (one["invocations"], two["invocations"]) == (1, 2)  # the same process, warm
    assert one["pid"] == two["pid"]
    assert "Init Duration" in log_tail(first) and "Init Duration" not in log_tail(second)
    assert one["context"]["functionName"] == name
    assert one["context"]["awsRequestId"] == first["ResponseMetadata"]["RequestId"]
    assert one["context"]["callbackWaitsForEmptyEventLoop"] is True
    assert one["context"]["memoryLimitInMB"] == "128"
    assert one["context"]["invokedFunctionArn"].endswith(f":function:{name}")
    assert one["context"]["logGroupName"] == f"/aws/lambda/{name}"
    assert 6000 < one["remaining"] <= 7000
    env = one["env"]
    assert env["AWS_EXECUTION_ENV"] == f"AWS_Lambda_{runtime}"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["TZ"] == ":UTC" and one["offset"] == 0
    assert env["LAMBDA_TASK_ROOT"] == one["cwd"]
    sdk, task = env["NODE_PATH"].split(":")
    assert task == env["LAMBDA_TASK_ROOT"] and sdk.endswith("/node_modules")
    assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert not [key for key in env if key.startswith("_PROCESS_EXECUTOR")]
    assert not [
        key for key in env if key.startswith("LOCALSTACK_") and key != "LOCALSTACK_HOSTNAME"
    ]
    assert (env["PWD"], env["SHLVL"]) == (one["cwd"], "0")  # as AWS's runtime starts
    # AWS's options for the runtime (this Node.js knows them).
    assert "--no-experimental-require-module" in one["argv"]
    assert ("--no-experimental-detect-module" in one["argv"]) == (runtime == "nodejs22.x")


def test_a_runtime_on_another_major_version_says_so_in_the_log(lambda_client, create_node_function):
    name = create_node_function(INTROSPECT, runtime="nodejs22.x")
    response = invoke(lambda_client, name, LogType="Tail")
    node = response["Payload"]["node"]
    if node.startswith("22."):
        pytest.skip("this machine has Node.js 22")
    major_minor = ".".join(node.split(".")[:2])
    note = "[process executor] No local Node.js 22 found; runtime nodejs22.x runs on Node.js"
    assert f"{note} {major_minor}" in log_tail(response)


@pytest.mark.parametrize(
    "files",
    [
        {"index.mjs": "export const handler = async (e) => ({ kind: 'mjs', e });"},
        {
            "package.json": '{"type": "module"}',
            "index.js": "export const handler = async (e) => ({ kind: 'module js', e });",
        },
        {"index.cjs": "exports.handler = async (e) => ({ kind: 'cjs', e });"},
        {"src/handlers/index.js": "exports.handler = async (e) => ({ kind: 'subfolder', e });"},
    ],
    ids=["mjs", "js-type-module", "cjs", "subfolder"],
)
def test_es_modules_and_commonjs_load_as_on_aws(lambda_client, create_node_function, files):
    handler = "src/handlers/index.handler" if "src/handlers/index.js" in files else "index.handler"
    name = create_node_function(files=files, handler=handler)
    assert invoke(lambda_client, name, {"n": 1})["Payload"]["e"] == {"n": 1}


def test_a_callback_handler_answers_once_the_event_loop_is_empty(
    lambda_client, create_node_function
):
    name = create_node_function(
        """
        let timers = 0;
        exports.handler = (event, context, callback) => {
          setTimeout(() => { timers++; console.log('timer done'); }, 200);
          callback(null, { timersBefore: timers });
        };
        """
    )
    first = invoke(lambda_client, name, LogType="Tail")
    assert "timer done" in log_tail(first)  # within the invocation, before END
    assert log_tail(first).index("timer done") < log_tail(first).index("END RequestId")
    assert invoke(lambda_client, name)["Payload"] == {"timersBefore": 1}


def test_an_async_handler_that_also_calls_back_ends_with_the_first(
    lambda_client, create_node_function
):
    name = create_node_function(
        """
        exports.handler = async (event, context, callback) => {
          context.callbackWaitsForEmptyEventLoop = false;
          callback(null, 'from the callback');
          return 'from the promise';
        };
        """
    )
    assert invoke(lambda_client, name)["Payload"] == "from the callback"


def test_console_lines_reach_cloudwatch_with_the_request_id(
    lambda_client, logs_client, create_node_function
):
    name = create_node_function(
        """
        console.log('loading');
        exports.handler = async () => { console.warn('two\\nlines'); return 1; };
        """
    )
    request_id = invoke(lambda_client, name)["ResponseMetadata"]["RequestId"]
    group = f"/aws/lambda/{name}"

    def messages() -> list[str]:
        try:
            events = logs_client.filter_log_events(logGroupName=group)["events"]
        except logs_client.exceptions.ResourceNotFoundException:
            return []
        return [event["message"].rstrip("\n") for event in events]

    assert wait_for(lambda: any(m.startswith("REPORT") for m in messages()))
    found = messages()
    assert found[0].endswith("\tundefined\tINFO\tloading")  # init output first, as on AWS
    assert found[1] == f"START RequestId: {request_id} Version: $LATEST"
    warning = next(m for m in found if "\tWARN\t" in m)
    assert warning.split("\t")[1:] == [request_id, "WARN", "two\rlines"]
    assert f"END RequestId: {request_id}" in found


def test_a_buffer_result_is_its_json(lambda_client, create_node_function):
    name = create_node_function("exports.handler = async () => Buffer.from('ok');")
    assert invoke(lambda_client, name)["Payload"] == {"type": "Buffer", "data": [111, 107]}


# Errors -----------------------------------------------------------------------------------


def test_an_error_has_aws_shape_with_paths_under_var_task(
    localstack, lambda_client, create_node_function
):
    name = create_node_function("exports.handler = async () => { throw new Error('no branch'); };")
    response = invoke(lambda_client, name)
    assert response["FunctionError"] == "Unhandled"
    error = response["Payload"]
    assert set(error) == {"errorType", "errorMessage", "trace"}
    assert (error["errorType"], error["errorMessage"]) == ("Error", "no branch")
    assert "(/var/task/index.js:1:" in error["trace"][1]
    assert str(localstack.state_dir) not in json.dumps(error)


def test_something_thrown_that_is_not_an_error(lambda_client, create_node_function):
    name = create_node_function("exports.handler = async () => { throw 'just a string'; };")
    error = invoke(lambda_client, name)["Payload"]
    assert error == {"errorType": "string", "errorMessage": "just a string", "trace": []}


@pytest.mark.parametrize(
    ("files", "handler", "error_type", "message"),
    [
        ({"index.js": "exports.handler = 1;"}, "missing.handler", "Runtime.ImportModuleError",
         "Error: Cannot find module 'missing'"),
        ({"index.js": "exports.other = async () => 1;"}, "index.handler",
         "Runtime.HandlerNotFound", "index.handler is undefined or not exported"),
        ({"index.mjs": "export const handler = async () => {;"}, "index.handler",
         "Runtime.UserCodeSyntaxError", "SyntaxError: "),
        ({"index.js": "throw new Error('at load time');"}, "index.handler", "Error",
         "at load time"),
    ],
    ids=["file-missing", "export-missing", "syntax-error", "throws-at-load"],
)  # fmt: skip
def test_init_errors_are_reported_as_on_aws(
    lambda_client, create_node_function, files, handler, error_type, message
):
    name = create_node_function(files=files, handler=handler)
    for _ in range(2):  # every invocation meets the same init error
        response = invoke(lambda_client, name)
        assert response["FunctionError"] == "Unhandled"
        assert response["Payload"]["errorType"] == error_type
        assert response["Payload"]["errorMessage"].startswith(message)


def test_process_exit_is_a_runtime_exit_error_and_the_next_invocation_recovers(
    lambda_client, create_node_function
):
    name = create_node_function(
        """
        exports.handler = async (event) => {
          if (event.exit !== undefined) { console.log('bye'); process.exit(event.exit); }
          return 'fine';
        };
        """
    )
    response = invoke(lambda_client, name, {"exit": 2}, LogType="Tail")
    assert response["Payload"]["errorType"] == "Runtime.ExitError"
    assert response["Payload"]["errorMessage"].endswith(
        "Error: Runtime exited with error: exit status 2"
    )
    assert "bye" in log_tail(response)
    zero = invoke(lambda_client, name, {"exit": 0})["Payload"]
    assert zero["errorMessage"].endswith("Error: Runtime exited without providing a reason")
    assert invoke(lambda_client, name)["Payload"] == "fine"


def test_an_uncaught_exception_fails_the_invocation_and_a_new_process_serves_the_next(
    localstack, lambda_client, create_node_function
):
    name = create_node_function(
        """
        // Its way out takes half a second: the next invocation comes meanwhile.
        process.on('exit', () => { const end = Date.now() + 500; while (Date.now() < end); });
        exports.handler = (event, context, callback) => {
          if (event.crash) { setTimeout(() => { throw new TypeError('in a timer'); }, 5); return; }
          callback(null, process.pid);
        };
        """
    )
    without_retries = boto3.client(
        "lambda",
        endpoint_url=localstack.endpoint,
        region_name=localstack.region,
        aws_access_key_id=localstack.account_id,
        aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1}),
    )
    for _ in range(2):
        before = invoke(lambda_client, name)["Payload"]
        error = invoke(lambda_client, name, {"crash": True})["Payload"]
        assert (error["errorType"], error["errorMessage"]) == ("TypeError", "in a timer")
        # At once: the next invocation may come while the process is going; it is given
        # to a fresh one, never to the one on its way out (no Runtime.ExitError).
        after = invoke(without_retries, name)["Payload"]  # a failure would show
        assert isinstance(after, int) and after != before, after
        assert not psutil.pid_exists(before)


def test_a_handler_that_never_returns_times_out_with_its_children(
    lambda_client, create_node_function
):
    name = create_node_function(
        """
        const { spawn } = require('node:child_process');
        exports.handler = async (event) => {
          if (event.hang) {
            const child = spawn('sleep', ['600'], { detached: true, stdio: 'ignore' });
            child.unref();
            console.log('child', child.pid);
            await new Promise(() => setInterval(() => {}, 1000));
          }
          return 'awake';
        };
        """,
        timeout=2,
    )
    started = time.monotonic()
    response = invoke(lambda_client, name, {"hang": True}, LogType="Tail")
    assert time.monotonic() - started < 15
    assert response["Payload"] == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {response['ResponseMetadata']['RequestId']} Error: Task "
        "timed out after 2.00 seconds",
    }
    child = int(
        next(line for line in log_tail(response).splitlines() if "\tchild " in line).split()[-1]
    )
    assert wait_for(lambda: not psutil.pid_exists(child))  # a detached child goes too
    assert invoke(lambda_client, name)["Payload"] == "awake"


def test_huge_output_is_kept_and_a_huge_response_is_refused(lambda_client, create_node_function):
    name = create_node_function(
        """
        exports.handler = async (event) => {
          if (event.log) { for (let i = 0; i < 2000; i++) console.log('x'.repeat(1000) + i); }
          if (event.respond) { return 'y'.repeat(7 * 1024 * 1024); }
          return 'ok';
        };
        """
    )
    logged = invoke(lambda_client, name, {"log": True}, LogType="Tail")
    assert logged["Payload"] == "ok"
    assert log_tail(logged).rstrip().splitlines()[-1].startswith("REPORT RequestId")
    assert "x" * 1000 + "1999" in log_tail(logged)
    too_big = invoke(lambda_client, name, {"respond": True})
    assert too_big["FunctionError"] == "Unhandled"
    assert too_big["Payload"]["errorType"] == "Function.ResponseSizeTooLarge"
    assert invoke(lambda_client, name)["Payload"] == "ok"


# Start-up options and concurrency -----------------------------------------------------------


def test_node_options_are_honoured_and_can_re_enable_what_aws_turns_off(
    lambda_client, create_node_function
):
    """AWS turns off require() of ES modules; NODE_OPTIONS=--experimental-require-module
    turns it back on (a process of its own is started with the function's NODE_OPTIONS)."""
    files = {
        "lib.mjs": "export const answer = 42;",
        "index.js": """
            exports.handler = async () => {
              try { return require('./lib.mjs').answer; } catch (error) { return error.code; }
            };
        """,
    }
    default = create_node_function(files=files, runtime="nodejs22.x")
    assert invoke(lambda_client, default)["Payload"] == "ERR_REQUIRE_ESM"
    enabled = create_node_function(
        files=files,
        runtime="nodejs22.x",
        environment={"NODE_OPTIONS": "--experimental-require-module --no-warnings"},
    )
    assert invoke(lambda_client, enabled)["Payload"] == 42


def test_invocations_at_once_get_environments_of_their_own_then_reuse_them(
    lambda_client, create_node_function
):
    name = create_node_function(
        """
        exports.handler = async (event) => {
          await new Promise((done) => setTimeout(done, event.sleep));
          return process.pid;
        };
        """
    )
    with ThreadPoolExecutor(max_workers=4) as pool:
        first = list(pool.map(lambda _: invoke(lambda_client, name, {"sleep": 1500}), range(4)))
        second = list(pool.map(lambda _: invoke(lambda_client, name, {"sleep": 1500}), range(4)))
    first_pids = {r["Payload"] for r in first}
    second_pids = {r["Payload"] for r in second}
    assert all("FunctionError" not in r for r in first + second)
    assert len(first_pids) == 4  # four at once: four environments
    assert second_pids <= first_pids  # then warm ones, no new process


def test_a_configuration_change_runs_from_a_code_folder_of_its_own(
    lambda_client, create_node_function
):
    """The old configuration's environments stop and its code folder goes; the new one's
    environments run from their own, whatever the order LocalStack does that in."""
    name = create_node_function(
        "exports.handler = async () => ({ cwd: process.cwd(), stage: process.env.STAGE });"
    )
    before = invoke(lambda_client, name)["Payload"]
    for stage in ("two", "three"):
        lambda_client.update_function_configuration(
            FunctionName=name, Environment={"Variables": {"STAGE": stage}}
        )
        wait_until_ready(lambda_client, name)
        after = invoke(lambda_client, name)["Payload"]
        assert after["stage"] == stage and after["cwd"] != before["cwd"]
        assert wait_for(lambda before=before: not os.path.exists(before["cwd"]))
        assert os.path.isdir(after["cwd"])
        before = after
