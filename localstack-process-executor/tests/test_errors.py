"""Errors have the shapes and types AWS's Python runtime gives them."""

from __future__ import annotations

from sfnlab.testing.functions import invoke


def test_unhandled_exception_has_aws_shape(lambda_client, create_function):
    name = create_function(
        """
        def handler(event, context):
            raise ValueError("the branch name is missing")
        """
    )
    response = invoke(lambda_client, name)
    assert response["FunctionError"] == "Unhandled"
    error = response["Payload"]
    assert set(error) == {"errorMessage", "errorType", "stackTrace", "requestId"}
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "the branch name is missing"
    assert len(error["requestId"]) == 36
    # Only the learner's frames, formatted as Python does.
    assert len(error["stackTrace"]) == 1
    assert 'lambda_function.py", line 3, in handler' in error["stackTrace"][0]
    assert "bootstrap" not in "".join(error["stackTrace"])


def test_missing_handler_module_is_import_module_error(lambda_client, create_function):
    name = create_function("def handler(e, c):\n    return 1\n", handler="nowhere.handler")
    error = invoke(lambda_client, name)["Payload"]
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"] == "Unable to import module 'nowhere': No module named 'nowhere'"


def test_missing_handler_function_is_handler_not_found(lambda_client, create_function):
    name = create_function("def other(e, c):\n    return 1\n")
    response = invoke(lambda_client, name)
    assert response["FunctionError"] == "Unhandled"
    assert response["Payload"] == {
        "errorMessage": "Handler 'handler' missing on module 'lambda_function'",
        "errorType": "Runtime.HandlerNotFound",
        "requestId": response["ResponseMetadata"]["RequestId"],
        "stackTrace": [],
    }


def test_syntax_error_is_reported_at_start_up(lambda_client, create_function):
    name = create_function("def handler(event, context)\n    return 1\n")
    error = invoke(lambda_client, name)["Payload"]
    assert error["errorType"] == "Runtime.UserCodeSyntaxError"
    assert error["errorMessage"].startswith("Syntax error in module 'lambda_function'")


def test_exception_while_importing_is_an_init_error(lambda_client, create_function):
    name = create_function(
        """
        import os
        TABLE = os.environ["TABLE_NAME"]

        def handler(event, context):
            return TABLE
        """
    )
    response = invoke(lambda_client, name)
    assert response["FunctionError"] == "Unhandled"
    assert response["Payload"]["errorType"] == "KeyError"
    assert response["Payload"]["errorMessage"] == "'TABLE_NAME'"
    assert response["Payload"]["requestId"] == ""  # reported at init, before any request


def test_process_exit_is_runtime_exit_error(lambda_client, create_function):
    name = create_function(
        """
        import os

        def handler(event, context):
            print("about to exit")
            os._exit(3)
        """
    )
    response = invoke(lambda_client, name, LogType="Tail")
    assert response["FunctionError"] == "Unhandled"
    assert response["Payload"]["errorType"] == "Runtime.ExitError"
    assert response["Payload"]["errorMessage"].endswith(
        "Error: Runtime exited with error: exit status 3"
    )


def test_crash_by_signal_is_runtime_exit_error(lambda_client, create_function):
    name = create_function(
        """
        import os, signal

        def handler(event, context):
            os.kill(os.getpid(), signal.SIGSEGV)
        """
    )
    error = invoke(lambda_client, name)["Payload"]
    assert error["errorType"] == "Runtime.ExitError"
    assert error["errorMessage"].endswith("Runtime exited with error: signal: segv")


def test_environment_recovers_after_a_crash(lambda_client, create_function):
    name = create_function(
        """
        import os

        def handler(event, context):
            if event.get("crash"):
                os._exit(1)
            return "fine"
        """
    )
    assert invoke(lambda_client, name, {"crash": True})["Payload"]["errorType"] == (
        "Runtime.ExitError"
    )
    assert invoke(lambda_client, name)["Payload"] == "fine"


def test_result_that_is_not_json_is_a_marshal_error(lambda_client, create_function):
    name = create_function("def handler(event, context):\n    return {1, 2}\n")
    error = invoke(lambda_client, name)["Payload"]
    assert error["errorType"] == "Runtime.MarshalError"
    assert error["errorMessage"].startswith("Unable to marshal response:")


def test_stack_traces_show_the_paths_of_aws_runtime(localstack, lambda_client, create_function):
    """On AWS a function's code is under /var/task, the runtime's SDK and standard library
    under /var/lang; a trace never shows where this machine keeps them."""
    name = create_function(
        files={
            "lambda_function.py": """
                import json
                import boto3
                import helpers

                def handler(event, context):
                    if event.get("where") == "sdk":
                        boto3.client("s3", region_name="us-east-1").get_object(Bucket="b")
                    if event.get("where") == "stdlib":
                        json.loads("{")
                    return helpers.fail()
                """,
            "helpers.py": "def fail():\n    raise RuntimeError('in a helper')\n",
        }
    )
    ours = invoke(lambda_client, name)["Payload"]["stackTrace"]
    assert ours[0].startswith('  File "/var/task/lambda_function.py", line 11, in handler')
    assert ours[1].startswith('  File "/var/task/helpers.py", line 2, in fail')
    assert "raise RuntimeError('in a helper')" in ours[1]

    sdk = invoke(lambda_client, name, {"where": "sdk"})["Payload"]
    assert sdk["errorType"] == "ParamValidationError", sdk
    stdlib = invoke(lambda_client, name, {"where": "stdlib"})["Payload"]
    assert stdlib["errorType"] == "JSONDecodeError"
    for frame in sdk["stackTrace"][1:]:
        assert "/site-packages/botocore/" in frame and frame.startswith('  File "/var/lang/lib/')
    for frame in stdlib["stackTrace"][1:]:
        assert frame.startswith('  File "/var/lang/lib/python3.') and "/json/" in frame
    for trace in (ours, sdk["stackTrace"], stdlib["stackTrace"]):
        assert not any(str(localstack.state_dir) in frame for frame in trace)
        assert not any(str(localstack.home) in frame for frame in trace)


def test_syntax_error_names_the_file_under_var_task(lambda_client, create_function):
    name = create_function("def handler(event, context)\n    return 1\n")
    error = invoke(lambda_client, name)["Payload"]
    assert error["stackTrace"][0].startswith('  File "/var/task/lambda_function.py" Line 1')


def test_a_handler_that_exits_at_once_is_an_exit_error_every_time(lambda_client, create_function):
    """The process may end before it has said it got the invocation: still an ExitError,
    never a failure to deliver the invocation (a 500 from Invoke)."""
    name = create_function("import os\n\ndef handler(event, context):\n    os._exit(3)\n")
    for _ in range(12):
        error = invoke(lambda_client, name)["Payload"]
        assert error["errorType"] == "Runtime.ExitError"
