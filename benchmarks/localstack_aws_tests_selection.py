"""A pytest plugin for `localstack_aws_tests.py`: keep the AWS-validated tests that apply.

Loaded into LocalStack's own test run (`-p localstack_aws_tests_selection`). It keeps the
tests marked `aws.validated` that can run against a LocalStack in another process, and for
the `nodejs` selection only those that run Node.js code: a `nodejs*` runtime in the test's
parameters, or, for a test not parametrised by runtime, Node.js in its source.

It also resolves the names LocalStack gives function URLs (`<id>.lambda-url.<region>.`
followed by LocalStack's host) to loopback, as the public DNS record LocalStack keeps for
`*.localhost.localstack.cloud` does; a machine without that lookup could not reach them.
"""

from __future__ import annotations

import inspect
import os
import re
import socket

import pytest

RUNTIME_PARAMETER = re.compile(
    r"^(nodejs|python|java|dotnet|ruby|provided|go)\d*(\.\w+)*$|^(nodejs|python)\d"
)
NODEJS_IN_SOURCE = re.compile(r"nodejs|NODEJS|\.m?js\b")


def runtime_parameters(item: pytest.Item) -> list[str]:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return []
    values = [str(value) for value in callspec.params.values()]
    values += item.name[item.name.find("[") + 1 : -1].split("-") if "[" in item.name else []
    return [value for value in values if RUNTIME_PARAMETER.match(value)]


def runs_nodejs(item: pytest.Item) -> bool:
    runtimes = runtime_parameters(item)
    if runtimes:
        return any(runtime.startswith("nodejs") for runtime in runtimes)
    try:
        source = inspect.getsource(item.function)
    except (OSError, TypeError):
        return False
    return bool(NODEJS_IN_SOURCE.search(source))


def applies(item: pytest.Item, selection: str) -> bool:
    if item.get_closest_marker("aws_validated") is None:
        return False
    # A LocalStack in another process: these need LocalStack's code in the test process.
    if item.get_closest_marker("requires_in_process") or item.get_closest_marker(
        "aws_manual_setup_required"
    ):
        return False
    return selection != "nodejs" or runs_nodejs(item)


def resolve_localstack_names() -> None:
    host = os.environ.get("LOCALSTACK_HOST", "").rsplit(":", 1)[0]
    suffixes = tuple(s for s in (f".{host}", ".localhost.localstack.cloud") if s != ".")
    original = socket.getaddrinfo

    def getaddrinfo(name, *args, **kwargs):
        if isinstance(name, str) and name.endswith(suffixes):
            name = "127.0.0.1"
        return original(name, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo


def pytest_configure(config: pytest.Config) -> None:
    resolve_localstack_names()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    selection = os.environ.get("LOCALSTACK_AWS_TESTS_SELECTION", "nodejs")
    kept = [item for item in items if applies(item, selection)]
    config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = kept
