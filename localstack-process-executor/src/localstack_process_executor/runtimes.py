"""Map a Lambda `pythonX.Y` runtime to a local interpreter."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from localstack_process_executor import config
from localstack_process_executor.interpreters import Interpreter, find_first, this_or_newer

RUNTIME_PATTERN = re.compile(r"^python(\d+)\.(\d+)$")


class UnsupportedRuntimeError(Exception):
    """The function's runtime cannot run as a local process here."""


@dataclass(frozen=True)
class RuntimeChoice:
    runtime: str
    interpreter: Interpreter
    exact: bool

    @property
    def note(self) -> str:
        """A line for the function's log when the version is not the one asked for."""
        if self.exact:
            return ""
        return (
            f"[process executor] No local Python {self.runtime.removeprefix('python')} found; "
            f"runtime {self.runtime} runs on Python {self.interpreter.version_text} "
            f"({self.interpreter.path}).\n"
        )


_choices: dict[str, RuntimeChoice] = {}
_lock = threading.Lock()


def choose_interpreter(runtime: str | None) -> RuntimeChoice:
    """The interpreter for `runtime`: that version if installed, else the nearest newer."""
    with _lock:
        if runtime in _choices:
            return _choices[runtime]
        match = RUNTIME_PATTERN.match(runtime or "")
        if not match:
            raise UnsupportedRuntimeError(
                f"Runtime {runtime!r} cannot run as a local process: the process executor runs "
                "Python runtimes (python3.x) only. Use the Docker executor for other runtimes."
            )
        wanted = (int(match.group(1)), int(match.group(2)))
        interpreter = find_first(
            this_or_newer(wanted),
            config.PROCESS_EXECUTOR_PYTHONS,
            config.PROCESS_EXECUTOR_PYTHON_DIRS,
        )
        if interpreter is None:
            raise UnsupportedRuntimeError(
                f"No local Python {wanted[0]}.{wanted[1]} or newer was found for runtime "
                f"{runtime}. Install one, or list its path in PROCESS_EXECUTOR_PYTHONS."
            )
        choice = RuntimeChoice(runtime, interpreter, interpreter.version == wanted)
        _choices[runtime] = choice
        return choice
