"""What answers at LocalStack's endpoint: nothing, LocalStack, or some other program."""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass

import requests


@dataclass(frozen=True)
class LocalStackInfo:
    version: str
    edition: str


class NotLocalStack(Exception):
    """Something answers at the endpoint, but it is not LocalStack."""


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
        raise NotLocalStack(f"no valid answer ({e})") from e
    try:
        body = health.json()
    except ValueError:
        body = None
    if health.status_code != 200 or not isinstance(body, dict) or "services" not in body:
        raise NotLocalStack(f"HTTP {health.status_code}, not LocalStack's health document")
    return LocalStackInfo(
        version=str(body.get("version") or "unknown"), edition=str(body.get("edition") or "")
    )


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on (host, port) right now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe_socket:
        # As servers do: a connection lingering in TIME_WAIT does not hold the port.
        probe_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe_socket.bind((host, port))
        except OSError as e:
            if e.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def accepts_connections(host: str, port: int) -> bool:
    """Whether something listens on (host, port): a TCP connection succeeds."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")
