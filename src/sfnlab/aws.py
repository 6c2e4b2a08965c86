"""boto3 clients for the configured target: LocalStack's endpoint, or (guarded) real AWS."""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config

from sfnlab.config import Settings, load_settings

RETRIES = Config(retries={"max_attempts": 2, "mode": "standard"})


def client(service: str, settings: Settings | None = None) -> Any:
    """A boto3 client for `service`, made once per target (clients are thread-safe)."""
    return _client(service, settings or load_settings())


@functools.lru_cache(maxsize=64)
def _client(service: str, settings: Settings) -> Any:
    # Making a client loads the service's model: tens of milliseconds, worth doing once.
    if settings.on_aws:
        return boto3.session.Session(region_name=settings.region).client(service, config=RETRIES)
    # LocalStack accepts any credentials; a 12-digit access key id names the account.
    session = boto3.session.Session(
        region_name=settings.region,
        aws_access_key_id=settings.account_id,
        aws_secret_access_key="test",
    )
    return session.client(service, endpoint_url=settings.endpoint, config=RETRIES)
