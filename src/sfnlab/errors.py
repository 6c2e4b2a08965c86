"""The kit's own errors: each says what happened and what to do next.

Anything a learner can cause raises one of these; the CLI and the notebooks show it as
one paragraph, never as a traceback. Each class carries the exit status `sfnlab` ends
with, so scripts can tell a refused token from LocalStack not running.
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from sfnlab.config import Settings


class KitError(Exception):
    """A problem the learner can fix; `str()` is the whole message, hint included."""

    exit_code = 1

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

    exit_code = 3  # as a service's `status` says "not running"


class PortInUse(KitError):
    """The embedded LocalStack's port is held by another program."""


class NotLocalStackError(KitError):
    """Something answers at the endpoint, but it is not LocalStack."""


class PythonNotFound(KitError):
    """No Python 3.12 or 3.13 for the embedded LocalStack."""


class InstallFailed(KitError):
    """Creating the embedded LocalStack's virtualenv failed."""


class StartupFailed(KitError):
    """The embedded LocalStack exited or did not become ready."""


class ExecutionGone(KitError):
    """An execution LocalStack no longer knows (it was restarted since, say)."""

    exit_code = 4


class KitFailedToGrade(KitError):
    """The kit, not the learner, kept a solution from being graded: grading again may work."""

    exit_code = 5


class TokenRefused(KitError):
    """Step Functions (or the kit, before asking it) refuses a task token."""

    exit_code = 4


def kit_error(error: BaseException, settings: Settings | None = None) -> KitError | None:
    """The kit's own error for `error` when a learner can cause and fix it; else None.

    The one place that turns such errors into the message the CLI and the notebooks show.
    With `settings`, an AWS error is checked against what answers at the endpoint: a web
    server that is not LocalStack answers AWS calls with errors that explain nothing.
    """
    if isinstance(error, KitError):
        return error
    if isinstance(error, OSError) and error.errno in FOLDER_ERRORS and error.filename:
        return folder_error(error, settings)
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

    if isinstance(error, EndpointConnectionError):
        url = urlsplit(str(error.kwargs.get("endpoint_url", "")))
        return LocalStackNotReachable(
            f"LocalStack is not reachable at {url.scheme}://{url.netloc}.",
            hint="Start it with `sfnlab up` (or `docker compose up -d`), then try again.",
        )
    if not isinstance(error, (BotoCoreError, ClientError)):
        return None
    if settings is not None and not settings.on_aws:
        foreign = not_localstack(settings)
        if foreign is not None:
            return foreign
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        operation = getattr(error, "operation_name", "the request")
        refused = f"{operation} was refused: {details.get('Code', 'Error')}: "
        refused = f"{refused}{details.get('Message', '')}".rstrip(": ")
        return KitError(
            refused if refused.endswith((".", "!", "?")) else f"{refused}.",
            hint="`sfnlab logs` shows what LocalStack made of it.",
        )
    return KitError(f"The AWS call failed: {error}.")


# A folder the kit writes to that is read-only, not its user's, or on a full disk.
FOLDER_ERRORS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT}


def folder_error(error: OSError, settings: Settings | None) -> KitError:
    """Name the folder the kit could not write to, and what to do about it."""
    path = Path(error.filename)
    state_dir = settings.state_dir if settings is not None else None
    inside_state = state_dir is not None and path.is_relative_to(state_dir)
    folder = state_dir if inside_state else path.parent
    detail = error.strerror if path == folder else f"{error.strerror}: {path}"
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return KitError(
            f"The disk holding {folder} is full ({detail}).",
            hint="Free some space there, then try again.",
        )
    hint = f"Make it writable for you (`chmod u+w {folder}`)"
    if inside_state:
        hint += ", or point SFNLAB_STATE_DIR at a folder that is"
    return KitError(
        f"The kit cannot write in {folder} ({detail}).",
        hint=hint + ", then try again.",
    )


def not_localstack(settings: Settings) -> NotLocalStackError | None:
    """An error naming the program at the endpoint, when it is not LocalStack."""
    from sfnlab.endpoint import NotLocalStack, probe

    try:
        probe(settings.endpoint, timeout=1.0)
    except NotLocalStack as e:
        return NotLocalStackError(
            f"Something answers at {settings.endpoint}, but it is not LocalStack ({e}).",
            hint="Stop that program and run `sfnlab up`, or point SFNLAB_ENDPOINT at LocalStack.",
        )
    return None
