"""boto3 clients for the configured target: LocalStack's endpoint, or (guarded) real AWS."""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config

from sfnlab.config import Settings, load_settings

# LocalStack accepts any credentials; these name its default account (000000000000).
LOCALSTACK_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
RETRIES = Config(retries={"max_attempts": 2, "mode": "standard"})


def client(service: str, settings: Settings | None = None) -> Any:
    """A boto3 client for `service`, made once per target (clients are thread-safe)."""
    return _client(service, settings or load_settings())


@functools.lru_cache(maxsize=64)
def _client(service: str, settings: Settings) -> Any:
    # Making a client loads the service's model: tens of milliseconds, worth doing once.
    if settings.on_aws:
        return boto3.session.Session(region_name=settings.region).client(service, config=RETRIES)
    session = boto3.session.Session(region_name=settings.region, **LOCALSTACK_CREDENTIALS)
    return session.client(service, endpoint_url=settings.endpoint, config=RETRIES)
