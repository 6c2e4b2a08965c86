"""Load the exercise's Lambda handlers as plain modules, their inbox a real local one."""

from __future__ import annotations

import importlib
import sys
import uuid
from types import SimpleNamespace

import pytest

from sfnlab.inbox import InboxClient
from sfnlab.settings import PROJECT_ROOT
from sfnlab.testing.servers import inbox_server

LAMBDAS = PROJECT_ROOT / "lambdas"
MODULES = [
    "simulated_action",
    "create_code",
    "create_branch",
    "notify_reviewers",
    "approve_step_with_token",
    "merge_to_master",
    "create_release",
    "notify_ops",
]


@pytest.fixture
def inbox(tmp_path):
    with inbox_server(tmp_path / "inbox.sqlite3") as url:
        yield InboxClient(url)


@pytest.fixture
def handlers(inbox, monkeypatch):
    """The handler modules, imported afresh with INBOX_URL pointing at the test inbox."""
    monkeypatch.setenv("INBOX_URL", inbox.url)
    monkeypatch.setenv("APPROVE_FUNCTION_NAME", "sfnlab-approve-step-with-token")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.syspath_prepend(str(LAMBDAS))
    for name in MODULES:
        sys.modules.pop(name, None)
    modules = SimpleNamespace(**{name: importlib.import_module(name) for name in MODULES})
    yield modules
    for name in MODULES:
        sys.modules.pop(name, None)


@pytest.fixture
def context():
    return SimpleNamespace(aws_request_id=str(uuid.uuid4()), function_name="test")
