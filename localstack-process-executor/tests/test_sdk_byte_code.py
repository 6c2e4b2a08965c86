"""The AWS SDK's byte code for each Python that runs functions: a function's sandbox (the
grader's bubblewrap) cannot write `__pycache__`, so without it a Python other than
LocalStack's own compiles boto3 and botocore from source at every cold start."""

from __future__ import annotations

from pathlib import Path

import pytest
from own_localstacks import make_function

from localstack_process_executor.interpreters import find_first
from localstack_process_executor.sandbox import find_bwrap
from sfnlab.support.aws import client
from sfnlab.testing.functions import invoke

REPORT = """
import importlib.util, sys
import botocore

def handler(event, context):
    return {
        "version": list(sys.version_info[:2]),
        "compiled": [
            importlib.util.cache_from_source(module.__file__)
            for name, module in sorted(sys.modules.items())
            if name.split(".")[0] in ("boto3", "botocore") and getattr(module, "__file__", None)
        ],
    }
"""


def test_a_python_other_than_localstacks_finds_the_sdk_compiled(own_localstack, lambda_interpreter):
    versions = [(3, 12), (3, 13), (3, 11), (3, 10)]  # the exercise's own runtime first
    other = find_first([v for v in versions if v != lambda_interpreter.version])
    if other is None:
        pytest.skip("needs a Python 3 besides the embedded LocalStack's")
    if find_bwrap() is None:
        pytest.skip("bubblewrap (bwrap) is not installed")
    kit = own_localstack(
        PROCESS_EXECUTOR_PYTHON_DIRS=str(Path(other.path).parent), PROCESS_EXECUTOR_SANDBOX="bwrap"
    )
    # This version's byte code of the SDK module the function imports first, gone: the
    # function's cold start finds it made again only if the executor compiles the SDK.
    (botocore,) = kit.runtime_venv.glob("lib/python3.*/site-packages/botocore/__init__.py")
    tag = f"cpython-{other.version[0]}{other.version[1]}"
    (botocore.parent / "__pycache__" / f"__init__.{tag}.pyc").unlink(missing_ok=True)

    name = make_function(kit, REPORT, f"python{other.version_text}")
    report = invoke(client("lambda", kit), name)["Payload"]

    assert report["version"] == list(other.version)
    assert report["compiled"], report
    missing = [path for path in report["compiled"] if not Path(path).is_file()]
    assert not missing, missing
