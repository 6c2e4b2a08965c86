"""The runtime side, without LocalStack: handler loading, errors, context, log lines."""

from __future__ import annotations

import ast
import time
import uuid
from pathlib import Path

import pytest

from localstack_process_executor import bootstrap, lambda_platform, runtime_api
from localstack_process_executor.bootstrap import FaultError, LambdaContext, load_handler


@pytest.fixture
def task_root(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def module_named(task_root, source: str) -> str:
    name = f"handler_{uuid.uuid4().hex[:8]}"
    (task_root / f"{name}.py").write_text(source)
    return name


def test_handler_is_loaded_from_module_and_function(task_root):
    name = module_named(task_root, "def go(event, context):\n    return event * 2\n")
    assert load_handler(f"{name}.go")(21, None) == 42


@pytest.mark.parametrize(
    ("handler", "error_type"),
    [
        ("no_dot_here", "Runtime.MalformedHandlerName"),
        ("sys.handler", "Runtime.BuiltInModuleConflict"),
        ("missing_module_xyz.handler", "Runtime.ImportModuleError"),
    ],
)
def test_bad_handler_settings_are_faults_of_their_own_type(handler, error_type):
    with pytest.raises(FaultError) as fault:
        load_handler(handler)
    assert fault.value.error_type == error_type


def test_syntax_error_is_user_code_syntax_error(task_root):
    name = module_named(task_root, "def handler(event, context)\n    pass\n")
    with pytest.raises(FaultError) as fault:
        load_handler(f"{name}.handler")
    assert fault.value.error_type == "Runtime.UserCodeSyntaxError"
    assert fault.value.stack_trace and "Line 1" in fault.value.stack_trace[0]


def test_missing_function_fails_on_each_call_not_at_load(task_root):
    name = module_named(task_root, "def other(event, context):\n    pass\n")
    handler = load_handler(f"{name}.handler")
    with pytest.raises(FaultError) as fault:
        handler({}, None)
    assert fault.value.error_type == "Runtime.HandlerNotFound"


def test_exception_payload_has_aws_keys_and_only_user_frames(task_root):
    name = module_named(task_root, "def handler(event, context):\n    raise KeyError('branch')\n")
    handler = load_handler(f"{name}.handler")
    try:
        handler({}, None)
    except KeyError as exc:
        payload = bootstrap.exception_payload(exc, "req-1")
    assert payload["errorType"] == "KeyError"
    assert payload["errorMessage"] == "'branch'"
    assert payload["requestId"] == "req-1"
    assert all(bootstrap.__file__ not in frame for frame in payload["stackTrace"])
    assert f"{name}.py" in payload["stackTrace"][-1]


def test_context_counts_down_to_the_deadline(monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "notify_reviewers")
    context = LambdaContext("req-1", "arn:aws:lambda:us-east-1:000000000000:function:x", 0)
    assert context.get_remaining_time_in_millis() == 0  # past the deadline: never negative
    context = LambdaContext("req-1", "arn", time.time() + 3)
    assert 2800 < context.get_remaining_time_in_millis() <= 3000
    assert context.function_name == "notify_reviewers"


def test_peak_memory_is_reported_in_megabytes():
    assert 1 <= lambda_platform.peak_memory_mb() < 4096


def test_bytes_pass_through_as_the_response_as_aws_does():
    """AWS's Python runtime sends a `bytes` result as it is (already serialised JSON)."""
    assert bootstrap.marshal(b'"HelloWorld!"') == b'"HelloWorld!"'
    assert bootstrap.marshal(b"\xff not even utf-8") == b"\xff not even utf-8"
    assert bootstrap.marshal({"a": "b"}) == b'{"a": "b"}'


@pytest.mark.parametrize("result", [bytearray(b"{}"), {1, 2}, object()])
def test_other_results_that_are_not_json_are_marshal_errors(result):
    with pytest.raises(FaultError) as fault:
        bootstrap.marshal(result)
    assert fault.value.error_type == "Runtime.MarshalError"


@pytest.mark.parametrize("module", [bootstrap, lambda_platform, runtime_api])
def test_runtime_side_modules_parse_as_python_3_9(module):
    # They run on the function's own interpreter, which may be as old as python3.9.
    source = Path(module.__file__).read_text()
    ast.parse(source, feature_version=(3, 9))
