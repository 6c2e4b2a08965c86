"""boto3 clients for the configured target: LocalStack's endpoint, or (guarded) real AWS."""

from __future__ import annotations

import functools
import os
import threading
from typing import Any

import boto3
import botocore.session
from botocore.config import Config

from sfnlab.settings import Settings

RETRIES = Config(retries={"max_attempts": 2, "mode": "standard"})
# Some operations (Step Functions' TestState and StartSyncExecution) put a prefix before the
# endpoint's host, `sync-127.0.0.1`, which names no host: LocalStack answers them unprefixed.
ON_LOCALSTACK = RETRIES.merge(Config(inject_host_prefix=False))
# botocore's (config name, environment variables, default, converter) of the settings that
# lead to ~/.aws: no profile, and no files (not even AWS_CONFIG_FILE's) for LocalStack.
NO_AWS_FILES = {
    "profile": (None, None, None, None),
    "config_file": (None, None, os.devnull, None),
    "credentials_file": (None, None, os.devnull, None),
}


def client(service: str, settings: Settings) -> Any:
    """A boto3 client for `service`, made once per target (clients are thread-safe)."""
    return _client(service, settings)


@functools.lru_cache(maxsize=64)
def _client(service: str, settings: Settings) -> Any:
    # Making a client loads the service's model: tens of milliseconds, worth doing once.
    if settings.on_aws:
        return boto3.session.Session(region_name=settings.region).client(service, config=RETRIES)
    # LocalStack accepts any credentials; a 12-digit access key id names the account. One
    # session for all of them: it loads each service's model once (the grader makes
    # clients for a new account per solution; a session of their own costs 0.4 s each).
    # The learner's ~/.aws files are never read: no profile there may change the target.
    with _session_lock:
        return _local_session().client(
            service,
            region_name=settings.region,
            aws_access_key_id=settings.account_id,
            aws_secret_access_key="test",
            endpoint_url=settings.endpoint,
            config=ON_LOCALSTACK,
        )


_session_lock = threading.Lock()  # a session is not thread-safe; its clients are


@functools.cache
def _local_session() -> boto3.session.Session:
    return boto3.session.Session(
        botocore_session=botocore.session.Session(session_vars=NO_AWS_FILES)
    )


def state_machine_arns(sfn: Any) -> dict[str, str]:
    """Every state machine of the account: name -> ARN."""
    return {
        machine["name"]: machine["stateMachineArn"]
        for page in sfn.get_paginator("list_state_machines").paginate()
        for machine in page["stateMachines"]
    }


def find_state_machine(sfn: Any, name: str) -> str | None:
    """The ARN of the state machine named `name`, None when there is none."""
    return state_machine_arns(sfn).get(name)
