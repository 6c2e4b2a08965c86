"""Any exception, as the learner reads it: the kit's own error, or None for a kit bug.

The one place that turns what went wrong into the paragraph the command line and the
notebooks show. It may look at the endpoint: a web server that is not LocalStack answers
AWS calls with errors that explain nothing.
"""

from __future__ import annotations

import errno
from pathlib import Path
from urllib.parse import urlsplit

from sfnlab.errors import LearnerError, LocalStackNotReachable, NotLocalStack, ReportedError
from sfnlab.localstack.probe import probe
from sfnlab.settings import Settings


def explained(error: BaseException, settings: Settings | None = None) -> ReportedError | None:
    """The paragraph for `error`: the kit's own error, or one for a mistake a learner can
    cause and fix (an AWS refusal, LocalStack not reachable, a folder not writable); None
    for anything else, a bug of the kit's, whose traceback is what helps.

    The one place that turns errors into the message the CLI and the notebooks show.
    With `settings`, an AWS error is checked against what answers at the endpoint: a web
    server that is not LocalStack answers AWS calls with errors that explain nothing.
    """
    if isinstance(error, ReportedError):
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
        return LearnerError(
            refused if refused.endswith((".", "!", "?")) else f"{refused}.",
            hint="`sfnlab logs` shows what LocalStack made of it.",
        )
    return LearnerError(f"The AWS call failed: {error}.")


# A folder the kit writes to that is read-only, not its user's, or on a full disk.
FOLDER_ERRORS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT}


def folder_error(error: OSError, settings: Settings | None) -> LearnerError:
    """Name the folder the kit could not write to, and what to do about it."""
    path = Path(error.filename)
    state_dir = settings.state_dir if settings is not None else None
    inside_state = state_dir is not None and path.is_relative_to(state_dir)
    folder = state_dir if inside_state else path.parent
    detail = error.strerror if path == folder else f"{error.strerror}: {path}"
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return LearnerError(
            f"The disk holding {folder} is full ({detail}).",
            hint="Free some space there, then try again.",
        )
    hint = f"Make it writable for you (`chmod u+w {folder}`)"
    if inside_state:
        hint += ", or point SFNLAB_STATE_DIR at a folder that is"
    return LearnerError(
        f"The kit cannot write in {folder} ({detail}).",
        hint=hint + ", then try again.",
    )


def not_localstack(settings: Settings) -> NotLocalStack | None:
    """The error naming the program at the endpoint, when it is not LocalStack."""
    try:
        probe(settings.endpoint, timeout=1.0)
    except NotLocalStack as e:
        return e
    return None
