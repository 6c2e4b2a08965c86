"""The kit's errors: the learner's to fix, or the kit's own failure. Vocabulary only.

Two families, named as a pair. A `LearnerError` is something the learner did or can fix
(LocalStack not started, a token already used, a definition Step Functions refuses); a
`KitFault` is the kit failing on its own (the grader could not grade a solution), never
charged to the learner. Both say what happened and what to do next; `explain.py` turns
any exception into that paragraph. Each class carries the exit status `sfnlab` ends with,
so scripts can tell a refused token from LocalStack not running; `sfnlab --help` lists
them from here.

This module imports nothing of the kit: every other module may import it.
"""

from __future__ import annotations

from pathlib import Path


class ReportedError(Exception):
    """An error the kit shows as one paragraph: `str()` is the whole of it, hint included."""

    exit_code = 1
    exit_meaning = "a problem the message explains"

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


class LearnerError(ReportedError):
    """Something the learner did, or can fix: the message says what to do next."""


class KitFault(ReportedError):
    """The kit itself failed, not the learner: running the same again may work."""

    exit_code = 5
    exit_meaning = "the kit (not the solution) kept `sfnlab grade` from grading a solution"


# The learner's -------------------------------------------------------------------------


class LocalStackNotReachable(LearnerError):
    """Nothing answers at the configured endpoint."""

    exit_code = 3
    exit_meaning = "LocalStack is not running or not reachable"


class NotLocalStack(LearnerError):
    """Something answers at the endpoint, but it is not LocalStack.

    `detail` is what answered instead (an HTTP status, say), for messages of their own.
    """

    def __init__(self, message: str, *, detail: str = "", hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.detail = detail or message


class PortInUse(LearnerError):
    """A port the kit wants (LocalStack's, the inbox's) is held by another program."""


class PythonNotFound(LearnerError):
    """No Python 3.12 or 3.13 for the embedded LocalStack."""


class InstallFailed(LearnerError):
    """Creating the embedded LocalStack's virtualenv failed."""


class StartupFailed(LearnerError):
    """The embedded LocalStack exited or did not become ready."""


class DefinitionError(LearnerError):
    """A state machine definition that cannot be deployed as it is."""


class ExecutionGone(LearnerError):
    """An execution LocalStack no longer knows (it was restarted since, say)."""

    exit_code = 4
    exit_meaning = (
        "the token or execution can decide nothing any more (used, stopped, ended, "
        "timed out, or forgotten in a restart)"
    )


class TokenRefused(LearnerError):
    """Step Functions (or the kit, before asking it) refuses a task token."""

    exit_code = 4
    exit_meaning = ExecutionGone.exit_meaning


class SolutionFault(LearnerError):
    """A solution the grader cannot even run (a missing folder, no Lambda code)."""


# The kit's ------------------------------------------------------------------------------


class GradingFailed(KitFault):
    """The kit, not the learner, kept a solution from being graded: grading again may work."""


def exit_statuses() -> list[tuple[int, str]]:
    """Each exit status `sfnlab` can end with and what it means, from the classes above."""
    meanings: dict[int, str] = {0: "done", 2: "a mistake in the command line"}
    pending = [ReportedError]
    while pending:
        cls = pending.pop(0)
        meanings.setdefault(cls.exit_code, cls.exit_meaning)
        pending.extend(cls.__subclasses__())
    return sorted(meanings.items())
