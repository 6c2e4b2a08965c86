"""The kit's own errors: each says what happened and what to do next.

Anything a learner can cause raises one of these; the CLI and the notebooks show it as
one paragraph, never as a traceback.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit


class KitError(Exception):
    """A problem the learner can fix; `str()` is the whole message, hint included."""

    def __init__(self, message: str, *, hint: str = "", log_file: Path | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.log_file = log_file

    def __str__(self) -> str:
        parts = [self.message]
        if self.hint:
            parts.append(self.hint)
        if self.log_file:
            parts.append(f"Log: {self.log_file}")
        return " ".join(parts)


class LocalStackNotReachable(KitError):
    """Nothing answers at the configured endpoint."""


class PortInUse(KitError):
    """The embedded LocalStack's port is held by another program."""


class PythonNotFound(KitError):
    """No Python 3.12 or 3.13 for the embedded LocalStack."""


class InstallFailed(KitError):
    """Creating the embedded LocalStack's virtualenv failed."""


class StartupFailed(KitError):
    """The embedded LocalStack exited or did not become ready."""


def kit_error(error: BaseException) -> KitError | None:
    """The kit's own error for `error` when a learner can cause and fix it; else None.

    The one place that turns such errors into the message the CLI and the notebooks show.
    """
    if isinstance(error, KitError):
        return error
    from botocore.exceptions import EndpointConnectionError

    if isinstance(error, EndpointConnectionError):
        url = urlsplit(str(error.kwargs.get("endpoint_url", "")))
        return LocalStackNotReachable(
            f"LocalStack is not reachable at {url.scheme}://{url.netloc}.",
            hint="Start it with `sfnlab up` (or `docker compose up -d`), then try again.",
        )
    return None
