"""boto3 clients for the configured LocalStack endpoint."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from sfnlab.config import Settings, load_settings

# LocalStack accepts any credentials; these name its default account (000000000000).
LOCALSTACK_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


def client(service: str, settings: Settings | None = None, **config: Any) -> Any:
    """A boto3 client for `service` talking to LocalStack."""
    settings = settings or load_settings()
    return boto3.session.Session(region_name=settings.region, **LOCALSTACK_CREDENTIALS).client(
        service,
        endpoint_url=settings.endpoint,
        config=Config(retries={"max_attempts": 2, "mode": "standard"}, **config),
    )
