"""The Node.js runtime client against a stand-in Runtime API: no LocalStack, a real `node`.

What AWS's Node.js runtime does, one behaviour per test: handler forms, async and
callback handlers, the context, errors and their payloads, console lines.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from sfnlab.testing.nodejs_runtime_api import FUNCTION_ARN, node_or_skip, run_client

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t(\S+)\t([A-Z]+)\t(.*)$")


@pytest.fixture(autouse=True)
def node():
    return node_or_skip()


@pytest.fixture
def task(tmp_path) -> Path:
    root = tmp_path / "task"
    root.mkdir()
    (tmp_path / "package.json").write_text("{}\n")  # the scope: nothing above is read
    return root


def write(root: Path, files: dict[str, str]) -> None:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))


def responses(run) -> list:
    assert all(post.kind == "response" for post in run.posts), run.output
    return [post.json for post in run.posts]


# Handler forms -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "handler"),
    [
        ({"index.js": "exports.handler = async (e) => ({ got: e });"}, "index.handler"),
        ({"index.cjs": "module.exports.handler = async (e) => ({ got: e });"}, "index.handler"),
        ({"index.mjs": "export const handler = async (e) => ({ got: e });"}, "index.handler"),
        (
            {
                "package.json": '{"type": "module"}',
                "index.js": "export const handler = async (e) => ({ got: e });",
            },
            "index.handler",
        ),
        ({"src/app/main.js": "exports.run = async (e) => ({ got: e });"}, "src/app/main.run"),
        ({"lib.js": "exports.api = { v1: { go: async (e) => ({ got: e }) } };"}, "lib.api.v1.go"),
        ({"noext": "exports.handler = async (e) => ({ got: e });"}, "noext.handler"),
    ],
    ids=["cjs-js", "cjs", "mjs", "js-type-module", "subfolder", "nested-export", "no-ext"],
)
def test_handler_forms_load_as_on_aws(task, files, handler):
    write(task, files)
    run = run_client(task, handler, [{"n": 1}])
    assert responses(run) == [{"got": {"n": 1}}]


def test_js_with_import_syntax_outside_type_module_is_a_syntax_error_on_nodejs22(task):
    """AWS starts nodejs22.x with --no-experimental-detect-module: no guessing of ES syntax."""
    write(task, {"index.js": "import os from 'node:os';\nexport const handler = async () => 1;"})
    run = run_client(
        task,
        "index.handler",
        environment={"AWS_EXECUTION_ENV": "AWS_Lambda_nodejs22.x"},
        node_options=("--no-experimental-require-module", "--no-experimental-detect-module"),
    )
    assert run.posts[0].kind == "init-error"
    error = run.posts[0].json
    assert error["errorType"] == "Runtime.UserCodeSyntaxError"
    assert "Cannot use import statement outside a module" in error["errorMessage"]


def test_a_module_is_loaded_once_and_kept_warm(task):
    write(task, {"index.js": "let n = 0;\nexports.handler = async () => ++n;"})
    assert responses(run_client(task, "index.handler", [{}, {}, {}])) == [1, 2, 3]


# Async and callback handlers ------------------------------------------------------------


def test_callback_result_waits_for_the_event_loop_to_empty(task):
    write(
        task,
        {
            "index.js": """
            exports.handler = (event, context, callback) => {
              setTimeout(() => console.log('timer fired'), 300);
              callback(null, 'done');
            };
            """
        },
    )
    run = run_client(task, "index.handler", [{}])
    assert responses(run) == ["done"]
    assert "timer fired" in run.output  # before the response was sent


def test_callback_need_not_wait_when_told_not_to(task):
    write(
        task,
        {
            "index.js": """
            exports.handler = (event, context, callback) => {
              context.callbackWaitsForEmptyEventLoop = false;
              setTimeout(() => console.log('timer fired'), 20000);
              callback(null, context.callbackWaitsForEmptyEventLoop);
            };
            """
        },
    )
    run = run_client(task, "index.handler", [{}])
    assert responses(run) == [False]
    assert "timer fired" not in run.output


def test_callback_error_is_reported_at_once(task):
    write(
        task,
        {
            "index.js": """
            exports.handler = (event, context, callback) => {
              setTimeout(() => {}, 5000);
              callback(new RangeError('out of range'));
            };
            """
        },
    )
    run = run_client(task, "index.handler", [{}], wait=3)
    assert run.posts[0].kind == "error"
    assert run.posts[0].json["errorType"] == "RangeError"


def test_only_the_first_way_of_ending_counts(task):
    write(
        task,
        {
            "index.js": """
            exports.handler = async (event, context, callback) => {
              context.succeed('first');
              context.fail(new Error('second'));
              callback(null, 'third');
              return 'fourth';
            };
            """
        },
    )
    assert responses(run_client(task, "index.handler", [{}])) == ["first"]


@pytest.mark.parametrize(
    ("call", "kind", "payload"),
    [
        ("context.succeed({ ok: 1 })", "response", {"ok": 1}),
        ("context.done(null, 'done')", "response", "done"),
        (
            "context.fail()",
            "error",
            {"errorType": "string", "errorMessage": "handled", "trace": []},
        ),
    ],
)
def test_context_succeed_fail_done(task, call, kind, payload):
    write(task, {"index.js": f"exports.handler = (event, context) => {{ {call}; }};"})
    run = run_client(task, "index.handler", [{}])
    assert (run.posts[0].kind, run.posts[0].json) == (kind, payload)


def test_a_plain_function_that_returns_without_callback_answers_null(task):
    """AWS's runtime (nodejs20.x, 22.x) ignores a non-promise return value."""
    write(task, {"index.js": "exports.handler = (event) => 42;"})
    assert responses(run_client(task, "index.handler", [{}])) == [None]


def test_on_nodejs24_a_returned_value_is_the_result_and_callbacks_are_refused(task):
    write(task, {"index.js": "exports.plain = (e) => 42;\nexports.cb = (e, c, cb) => cb(null, 1);"})
    on24 = {"AWS_EXECUTION_ENV": "AWS_Lambda_nodejs24.x"}
    assert responses(run_client(task, "index.plain", [{}], environment=on24)) == [42]
    run = run_client(task, "index.cb", [{}], environment=on24)
    assert run.posts[0].kind == "init-error"
    assert run.posts[0].json["errorType"] == "Runtime.CallbackHandlerDeprecated"
    assert "Init Error" in run.output


def test_an_async_handler_whose_promise_never_settles_is_a_nodejs_exit_error(task):
    write(task, {"index.js": "exports.handler = async () => new Promise(() => {});"})
    run = run_client(task, "index.handler", [{}])
    assert run.posts[0].kind == "error"
    assert run.posts[0].json["errorType"] == "Runtime.NodeJsExit"


def test_a_buffer_result_is_sent_as_its_json_as_aws_does(task):
    """AWS's Node.js runtime serialises every result with JSON.stringify, a Buffer too."""
    write(task, {"index.js": "exports.handler = async () => Buffer.from('hi');"})
    run = run_client(task, "index.handler", [{}])
    assert responses(run) == [{"type": "Buffer", "data": [104, 105]}]


def test_a_result_that_cannot_be_serialised_is_an_error(task):
    write(task, {"index.js": "exports.handler = async () => { const a = {}; a.a = a; return a; };"})
    run = run_client(task, "index.handler", [{}])
    assert run.posts[0].kind == "error"
    assert run.posts[0].json["errorMessage"] == "Unable to stringify response body"


def test_undefined_result_is_null(task):
    write(task, {"index.js": "exports.handler = async () => undefined;"})
    run = run_client(task, "index.handler", [{}])
    assert run.posts[0].body == b"null"


# The context -----------------------------------------------------------------------------


def test_context_has_the_fields_aws_documents(task):
    write(
        task,
        {
            "index.js": """
            exports.handler = async (event, context) => ({
              json: JSON.parse(JSON.stringify(context)),
              remaining: context.getRemainingTimeInMillis(),
              trace: process.env._X_AMZN_TRACE_ID,
            });
            """
        },
    )
    [result] = responses(run_client(task, "index.handler", [{}], timeout_ms=5000))
    assert result["json"] == {
        "callbackWaitsForEmptyEventLoop": True,
        "functionVersion": "$LATEST",
        "functionName": "client-test",
        "memoryLimitInMB": "128",
        "logGroupName": "/aws/lambda/client-test",
        "logStreamName": "2026/12/06/[$LATEST]0123",
        "invokedFunctionArn": FUNCTION_ARN,
        "awsRequestId": "request-0",
    }
    assert 4000 < result["remaining"] <= 5000
    assert result["trace"] == "Root=1-trace-request-0"


def test_remaining_time_counts_down(task):
    write(
        task,
        {
            "index.js": """
            exports.handler = async (event, context) => {
              const before = context.getRemainingTimeInMillis();
              await new Promise((done) => setTimeout(done, 300));
              return before - context.getRemainingTimeInMillis();
            };
            """
        },
    )
    [spent] = responses(run_client(task, "index.handler", [{}]))
    assert 280 <= spent < 1500


# Errors ------------------------------------------------------------------------------------


def test_an_error_has_type_message_and_trace_under_var_task(task):
    write(
        task, {"index.js": "exports.handler = async () => { throw new TypeError('no branch'); };"}
    )
    run = run_client(task, "index.handler", [{}])
    error = run.posts[0].json
    assert run.posts[0].kind == "error"
    assert set(error) == {"errorType", "errorMessage", "trace"}
    assert (error["errorType"], error["errorMessage"]) == ("TypeError", "no branch")
    assert error["trace"][0] == "TypeError: no branch"
    assert "(/var/task/index.js:1:" in error["trace"][1]
    assert str(task) not in run.posts[0].body.decode()
    assert run.posts[0].headers["Lambda-Runtime-Function-Error-Type"] == "TypeError"
    [line] = [line for line in run.lines() if "Invoke Error" in line]
    request_id, level, message = LOG_LINE.match(line).groups()
    assert (request_id, level) == ("request-0", "ERROR")
    logged = json.loads(message.split("\t", 1)[1])
    assert logged["errorType"] == "TypeError" and logged["stack"][0] == "TypeError: no branch"


@pytest.mark.parametrize(
    ("thrown", "error_type", "message"),
    [
        ("'a plain string'", "string", "a plain string"),
        ("42", "number", "42"),
        ("{ code: 7 }", "object", "[object Object]"),
        ("null", "string", "handled"),
    ],
)
def test_something_thrown_that_is_not_an_error(task, thrown, error_type, message):
    write(task, {"index.js": f"exports.handler = async () => {{ throw {thrown}; }};"})
    run = run_client(task, "index.handler", [{}])
    assert run.posts[0].json == {"errorType": error_type, "errorMessage": message, "trace": []}


def test_an_error_thrown_by_a_plain_function(task):
    write(task, {"index.js": "exports.handler = () => { throw new Error('sync'); };"})
    run = run_client(task, "index.handler", [{}])
    assert run.posts[0].json["errorMessage"] == "sync"


def test_a_missing_file_is_an_import_module_error_at_init(task):
    run = run_client(task, "nowhere.handler")
    assert run.posts[0].kind == "init-error"
    error = run.posts[0].json
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"].startswith("Error: Cannot find module 'nowhere'")
    assert run.exit_code == 129
    [line] = [line for line in run.lines() if "Uncaught Exception" in line]
    assert LOG_LINE.match(line).groups()[:2] == ("undefined", "ERROR")  # no request yet


def test_a_missing_package_required_by_the_handler_is_an_import_module_error(task):
    write(task, {"index.js": "const pad = require('left-pad');\nexports.handler = async () => 1;"})
    error = run_client(task, "index.handler").posts[0].json
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert "Cannot find module 'left-pad'" in error["errorMessage"]


def test_a_missing_package_imported_by_an_es_module_is_reported_as_it_is(task):
    """As on AWS: ES module resolution errors are not ImportModuleError."""
    write(task, {"index.mjs": "import pad from 'left-pad';\nexport const handler = async () => 1;"})
    error = run_client(task, "index.handler").posts[0].json
    assert error["errorType"] == "Error"
    assert "Cannot find package 'left-pad'" in error["errorMessage"]


@pytest.mark.parametrize(
    ("source", "handler", "message"),
    [
        (
            "exports.other = async () => 1;",
            "index.handler",
            "index.handler is undefined or not exported",
        ),
        ("exports.handler = 'not code';", "index.handler", "index.handler is not a function"),
    ],
)
def test_a_missing_export_is_handler_not_found(task, source, handler, message):
    write(task, {"index.js": source})
    error = run_client(task, handler).posts[0].json
    assert (error["errorType"], error["errorMessage"]) == ("Runtime.HandlerNotFound", message)


@pytest.mark.parametrize("handler", ["nodot", "../escape.handler"])
def test_a_malformed_handler_setting(task, handler):
    error = run_client(task, handler).posts[0].json
    assert error["errorType"] == "Runtime.MalformedHandlerName"


@pytest.mark.parametrize("name", ["index.js", "index.mjs"])
def test_a_syntax_error_is_user_code_syntax_error(task, name):
    write(task, {name: "exports.handler = async () => {\n  return 1;\n"})
    error = run_client(task, "index.handler").posts[0].json
    assert error["errorType"] == "Runtime.UserCodeSyntaxError"
    assert error["errorMessage"].startswith("SyntaxError: ")


def test_an_exception_at_load_time_is_reported_as_it_is(task):
    write(
        task, {"index.js": "const t = process.env.TABLE.trim();\nexports.handler = async () => t;"}
    )
    error = run_client(task, "index.handler").posts[0].json
    assert error["errorType"] == "TypeError"
    assert "reading 'trim'" in error["errorMessage"]


def test_an_uncaught_exception_in_a_timer_fails_the_invocation_and_the_process(task):
    write(
        task,
        {
            "index.js": """
            exports.handler = (event, context, callback) => {
              setTimeout(() => { throw new Error('from a timer'); }, 10);
            };
            """
        },
    )
    run = run_client(task, "index.handler", [{}])
    assert run.posts[0].kind == "error"
    assert run.posts[0].json["errorMessage"] == "from a timer"
    assert run.exit_code == 129


def test_an_unhandled_rejection_fails_the_invocation_and_the_process(task):
    write(
        task,
        {
            "index.js": """
            exports.handler = (event, context, callback) => {
              Promise.reject(new Error('nobody waits for me'));
            };
            """
        },
    )
    run = run_client(task, "index.handler", [{}])
    error = run.posts[0].json
    assert error["errorType"] == "Runtime.UnhandledPromiseRejection"
    assert error["errorMessage"] == "Error: nobody waits for me"
    assert run.exit_code == 128


def test_process_exit_in_the_handler_ends_the_process_with_its_code(task):
    write(task, {"index.js": "exports.handler = async () => process.exit(3);"})
    run = run_client(task, "index.handler", [{}])
    assert run.exit_code == 3 and run.posts == []


# Console lines -------------------------------------------------------------------------------


def test_console_lines_have_time_request_id_and_level(task):
    write(
        task,
        {
            "index.js": """
            console.log('loading');
            exports.handler = async () => {
              console.log('hello %s', 'there', { a: 1 });
              console.info('info');
              console.warn('careful');
              console.error('bad');
              console.debug('details');
              console.trace('tracing');
              console.log('two\\nlines');
              return 1;
            };
            """
        },
    )
    run = run_client(task, "index.handler", [{}])
    parsed = [LOG_LINE.match(line).groups() for line in run.lines()]
    assert parsed == [
        ("undefined", "INFO", "loading"),
        ("request-0", "INFO", "hello there { a: 1 }"),
        ("request-0", "INFO", "info"),
        ("request-0", "WARN", "careful"),
        ("request-0", "ERROR", "bad"),
        ("request-0", "DEBUG", "details"),
        ("request-0", "TRACE", "tracing"),
        ("request-0", "INFO", "two\rlines"),
    ]


def test_log_level_and_json_format_follow_the_logging_config(task):
    write(
        task,
        {
            "index.js": """
            exports.handler = async () => {
              console.debug('hidden');
              console.info('shown', 1);
              console.error(new Error('as json'));
              return 1;
            };
            """
        },
    )
    environment = {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "Info"}
    run = run_client(task, "index.handler", [{}], environment=environment)
    entries = [json.loads(line) for line in run.lines()]
    assert [entry["level"] for entry in entries] == ["INFO", "ERROR"]
    assert entries[0]["message"] == "shown 1" and entries[0]["requestId"] == "request-0"
    assert entries[1]["message"]["errorType"] == "Error"
    assert entries[1]["message"]["errorMessage"] == "as json"


def test_callback_handlers_get_aws_deprecation_warning(task):
    write(task, {"index.js": "exports.handler = (e, c, cb) => cb(null, 1);"})
    run = run_client(task, "index.handler", [{}])
    assert "plans to remove support for callback-based function handlers" in run.output
    quiet = {"AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING": "1"}
    assert "callback" not in run_client(task, "index.handler", [{}], environment=quiet).output


# Started ahead of need -----------------------------------------------------------------------


def test_a_process_started_ahead_of_need_becomes_the_functions_process(task, tmp_path):
    """Assigned through its pipe: the function's environment replaces its own whole, its
    working folder is the task root, TZ and NODE_PATH take effect."""
    write(
        task,
        {
            "index.js": """
            exports.handler = async () => ({
              spare: process.env.SPARE_ONLY ?? null,
              mine: process.env.MINE,
              cwd: process.cwd(),
              offset: new Date('2026-06-01T00:00:00Z').getTimezoneOffset(),
              helper: require('helper').name,
            });
            """
        },
    )
    shared = tmp_path / "shared"
    write(shared, {"helper.js": "exports.name = 'from NODE_PATH';"})
    assignment = {
        "environment": {
            "MINE": "yes",
            "TZ": "Asia/Tokyo",
            "NODE_PATH": str(shared),
            "_HANDLER": "index.handler",
        },
        "task_root": str(task),
        "module_scope": str(tmp_path),
    }
    # Started elsewhere, for another handler, with variables of its own.
    run = run_client(
        tmp_path, "not.this", [{}], environment={"SPARE_ONLY": "1"}, assignment=assignment
    )
    assert responses(run) == [
        {"spare": None, "mine": "yes", "cwd": str(task), "offset": -540, "helper": "from NODE_PATH"}
    ]


def test_every_request_shows_the_secret_its_assignment_gave_it(task, tmp_path):
    """The keeper's Runtime API answers only the environment's own runtime: the secret
    comes with the assignment, on every request, and is nowhere the function can look."""
    write(
        task,
        {
            "index.js": """
            exports.handler = async (event) => {
              if (event.fail) throw new Error('failed');
              return JSON.stringify(process.env).includes('s3cr3t');
            };
            """
        },
    )
    assignment = {
        "environment": {"_HANDLER": "index.handler"},
        "task_root": str(task),
        "secret": "s3cr3t",
    }
    run = run_client(tmp_path, "not.this", [{}, {"fail": True}], assignment=assignment)
    assert [post.kind for post in run.posts] == ["response", "error"]
    assert run.posts[0].json is False  # not in the function's environment
    shown = [headers.get("X-Process-Executor-Secret") for headers in run.asked]
    shown += [post.headers.get("X-Process-Executor-Secret") for post in run.posts]
    assert len(shown) >= 4 and set(shown) == {"s3cr3t"}


def test_an_init_error_shows_the_secret_too(task, tmp_path):
    write(task, {"index.js": "throw new Error('at load');"})
    assignment = {
        "environment": {"_HANDLER": "index.handler"},
        "task_root": str(task),
        "secret": "s3cr3t",
    }
    run = run_client(tmp_path, "not.this", [{}], assignment=assignment)
    assert [post.kind for post in run.posts] == ["init-error"]
    assert run.posts[0].headers.get("X-Process-Executor-Secret") == "s3cr3t"


def test_a_spare_that_is_never_assigned_exits_quietly(task):
    run = run_client(task, "index.handler", [], assignment={}, wait=5)
    assert (run.exit_code, run.output, run.posts) == (0, "", [])


def test_require_does_not_look_above_the_scope(tmp_path):
    """Packages in folders above the function's scope (a learner's project) are not found,
    as nothing above /var/task is on AWS; the function's own node_modules are."""
    project = tmp_path / "project"
    scope = project / "state" / "scope"
    task = scope / "task"
    write(project, {"node_modules/leaky/index.js": "module.exports = 'leaked';"})
    write(scope, {"package.json": "{}"})
    write(
        task,
        {
            "node_modules/own/index.js": "module.exports = 'own';",
            "index.js": """
            exports.handler = async () => {
              let leaky;
              try { leaky = require('leaky'); } catch (e) { leaky = e.code; }
              return { own: require('own'), leaky };
            };
            """,
        },
    )
    assignment = {
        "environment": {"_HANDLER": "index.handler"},
        "task_root": str(task),
        "module_scope": str(scope),
    }
    run = run_client(task, "index.handler", [{}], assignment=assignment)
    assert responses(run) == [{"own": "own", "leaky": "MODULE_NOT_FOUND"}]


# Response streaming ----------------------------------------------------------------------------

STREAMING = """
exports.ended = awslambda.streamifyResponse(async (event, stream) => {
  stream = awslambda.HttpResponseStream.from(stream, { statusCode: 200 });
  stream.write('Hello,');
  stream.end(' world!');
});
exports.open = awslambda.streamifyResponse(async (event, stream) => { stream.write('half'); });
exports.plain = awslambda.streamifyResponse((event, stream) => { stream.end('x'); });
"""


@pytest.mark.parametrize(
    ("handler", "kind", "body"),
    [
        ("index.ended", "response", b"Hello, world!"),
        ("index.open", "error", b"Response stream is not finished."),
        ("index.plain", "error", b"Streaming does not support non-async handlers."),
    ],
)
def test_a_streaming_handlers_output_is_one_response(task, handler, kind, body):
    write(task, {"index.js": STREAMING})
    run = run_client(task, handler, [{}])
    assert run.posts[0].kind == kind and body in run.posts[0].body


def test_the_global_awslambda_can_be_turned_off(task):
    write(task, {"index.js": "exports.handler = async () => typeof awslambda;"})
    assert responses(run_client(task, "index.handler", [{}])) == ["object"]
    off = {"AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA": "1"}
    assert responses(run_client(task, "index.handler", [{}], environment=off)) == ["undefined"]
