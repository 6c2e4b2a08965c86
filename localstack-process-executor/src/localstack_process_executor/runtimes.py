"""Map a Lambda runtime to a local executable: `pythonX.Y` to a Python, `nodejsN.x` to a
Node.js (node_finder.py)."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace

from localstack_process_executor import config, node_finder
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
    def language(self) -> str:
        return self.interpreter.language

    @property
    def note(self) -> str:
        """A line for the function's log when the version is not the one asked for."""
        if self.exact:
            return ""
        if self.language == "nodejs":
            wanted = self.runtime.removeprefix("nodejs").removesuffix(".x")
            return (
                f"[process executor] No local Node.js {wanted} found; runtime {self.runtime} "
                f"runs on Node.js {self.interpreter.version_text} ({self.interpreter.path}).\n"
            )
        return (
            f"[process executor] No local Python {self.runtime.removeprefix('python')} found; "
            f"runtime {self.runtime} runs on Python {self.interpreter.version_text} "
            f"({self.interpreter.path}).\n"
        )


_choices: dict[str, RuntimeChoice] = {}
_lock = threading.Lock()


def is_nodejs(runtime: str | None) -> bool:
    return (runtime or "").startswith("nodejs")


def choose_interpreter(runtime: str | None) -> RuntimeChoice:
    """The executable for `runtime`: that version if installed, else the nearest (see the
    finders). Raises UnsupportedRuntimeError saying why not and what to do."""
    with _lock:
        if runtime in _choices:
            return _choices[runtime]
        choice = _choose_nodejs(runtime) if is_nodejs(runtime) else _choose_python(runtime)
        _choices[runtime] = choice
        return choice


def _choose_nodejs(runtime: str) -> RuntimeChoice:
    try:
        node = node_finder.find_node(runtime, config.PROCESS_EXECUTOR_NODES)
    except node_finder.NodeNotFound as e:
        raise UnsupportedRuntimeError(str(e)) from None
    major = node_finder.wanted_major(runtime)
    sandboxed = bool(config.PROCESS_EXECUTOR_SANDBOX)
    node = replace(node, options=node_finder.options_for(major, node.path, sandboxed=sandboxed))
    return RuntimeChoice(runtime, node, node.version[0] == major)


def _choose_python(runtime: str | None) -> RuntimeChoice:
    match = RUNTIME_PATTERN.match(runtime or "")
    if not match:
        raise UnsupportedRuntimeError(
            f"Runtime {runtime!r} cannot run as a local process: the process executor runs "
            "Python (python3.x) and Node.js (nodejsN.x) runtimes only. Use the "
            "Docker executor for other runtimes."
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
    return RuntimeChoice(runtime, interpreter, interpreter.version == wanted)
