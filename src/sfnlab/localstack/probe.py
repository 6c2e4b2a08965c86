"""What answers at LocalStack's endpoint: nothing, LocalStack, or some other program."""

from __future__ import annotations

from dataclasses import dataclass

import requests

from sfnlab.errors import NotLocalStack


@dataclass(frozen=True)
class LocalStackInfo:
    version: str
    edition: str


def probe(endpoint: str, timeout: float = 2.0) -> LocalStackInfo | None:
    """LocalStack's version if it answers at `endpoint`, None if nothing listens there.

    Raises NotLocalStack when another program answers. (Only the health document is
    read: LocalStack's `/_localstack/info` runs `docker ps` and logs an error without Docker.)
    """
    try:
        # Loopback only: never route this through a proxy the learner has configured.
        health = requests.get(
            f"{endpoint}/_localstack/health", timeout=timeout, proxies={"http": "", "https": ""}
        )
    except requests.ConnectionError:
        return None
    except requests.RequestException as e:
        raise not_localstack(endpoint, f"no valid answer ({e})") from e
    try:
        body = health.json()
    except ValueError:
        body = None
    if health.status_code != 200 or not isinstance(body, dict) or "services" not in body:
        raise not_localstack(
            endpoint, f"HTTP {health.status_code}, not LocalStack's health document"
        )
    return LocalStackInfo(
        version=str(body.get("version") or "unknown"), edition=str(body.get("edition") or "")
    )


def not_localstack(endpoint: str, detail: str) -> NotLocalStack:
    return NotLocalStack(
        f"Something answers at {endpoint}, but it is not LocalStack ({detail}).",
        detail=detail,
        hint="Stop that program and run `sfnlab up`, or point SFNLAB_ENDPOINT at LocalStack.",
    )
