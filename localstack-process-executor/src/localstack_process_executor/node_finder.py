"""Find a local Node.js for the `nodejsN.x` runtimes, trusting only one that really runs.

Candidates are the paths in PROCESS_EXECUTOR_NODES, then `node` on PATH; each is run once
to ask its version. A runtime gets the candidate of its own major version if there is
one, else the nearest newer, else the newest older (the function's log says so), as long
as it is Node.js 20 or newer: the AWS SDK for JavaScript v3 the functions are given
needs no less, and AWS no longer runs older ones.

Each runtime is started with the options AWS's runtime uses to turn off experimental
features of its Node.js (`require()` of ES modules; ES module syntax detection), when
the local Node.js knows them; a function that re-enables one in NODE_OPTIONS gets it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from collections.abc import Iterable, Mapping

from localstack_process_executor.interpreters import Interpreter

RUNTIME_PATTERN = re.compile(r"^nodejs(\d+)\.x$")
# AWS's runtimes before nodejs18.x shipped the AWS SDK v2, which this executor does not give.
OLDEST_RUNTIME = 18
MINIMUM_NODE = 20
INSTALL_HINT = (
    "Install Node.js {minimum} or newer (https://nodejs.org, or your system's package "
    "manager, for example `apt install nodejs` or `brew install node`) so that `node` is "
    "on the PATH LocalStack starts with, or list its path in PROCESS_EXECUTOR_NODES."
)

# The options AWS starts each runtime with, and the option that re-enables each
# (https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html).
AWS_OPTIONS: dict[int, tuple[str, ...]] = {
    20: ("--no-experimental-require-module",),
    22: ("--no-experimental-require-module", "--no-experimental-detect-module"),
}

# In a sandbox, whose processes have a ceiling on their address space (sandbox.py): V8's
# WebAssembly trap handler reserves a 10 GiB cage per instance, so without this option no
# WebAssembly runs there, and neither does `fetch` (undici's HTTP parser is WebAssembly).
# Node.js 20.15 and newer know it; it only makes WebAssembly check bounds in code instead.
SANDBOX_OPTIONS = ("--disable-wasm-trap-handler",)

Version = tuple[int, int]
_probe_cache: dict[str, Version | None] = {}
_option_cache: dict[tuple[str, str], bool] = {}
_lock = threading.Lock()


class NodeNotFound(Exception):
    """No usable Node.js for a runtime: the message says which and what to install."""


def parse_version(text: str) -> Version:
    major, minor = text.strip().lstrip("v").split(".")[:2]
    return int(major), int(minor)


def probe(path: str) -> Version | None:
    """The version `path` reports when run, or None if it does not run."""
    with _lock:
        if path in _probe_cache:
            return _probe_cache[path]
    try:
        result = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=15, check=False
        )
        version = parse_version(result.stdout) if result.returncode == 0 else None
    except (OSError, ValueError, subprocess.SubprocessError):
        version = None
    with _lock:
        _probe_cache[path] = version
    return version


def accepts(path: str, option: str) -> bool:
    """Whether `path` starts with `option` (an unknown option stops Node.js at once)."""
    key = (path, option)
    with _lock:
        if key in _option_cache:
            return _option_cache[key]
    try:
        ok = (
            subprocess.run(
                [path, option, "-e", "0"], capture_output=True, timeout=15, check=False
            ).returncode
            == 0
        )
    except (OSError, subprocess.SubprocessError):
        ok = False
    with _lock:
        _option_cache[key] = ok
    return ok


def candidates(extra: Iterable[str] = (), search_path: str | None = None) -> list[str]:
    """Paths to try, in order: `extra`, then `node` on `search_path` (default: PATH)."""
    found = [path for path in extra if path]
    on_path = shutil.which("node", path=search_path)
    if on_path and on_path not in found:
        found.append(on_path)
    return found


def wanted_major(runtime: str | None) -> int | None:
    match = RUNTIME_PATTERN.match(runtime or "")
    return int(match.group(1)) if match else None


def choose(major: int, working: list[Interpreter]) -> Interpreter | None:
    """The same major version, else the nearest newer, else the newest older; among equals
    the one found first (the setting before PATH)."""
    exact = [node for node in working if node.version[0] == major]
    if exact:
        return exact[0]
    newer = [node for node in working if node.version[0] > major]
    if newer:
        return min(newer, key=lambda node: node.version)
    return max(working, key=lambda node: node.version, default=None)


def options_for(
    runtime_major: int,
    path: str,
    environment: Mapping[str, str] | None = None,
    *,
    sandboxed: bool = False,
) -> tuple[str, ...]:
    """AWS's options for the runtime that this Node.js knows, less those NODE_OPTIONS
    re-enables (`--experimental-require-module` drops `--no-experimental-require-module`);
    `sandboxed`: with what a sandbox's limits need (SANDBOX_OPTIONS) too."""
    node_options = (environment or {}).get("NODE_OPTIONS", "").split()
    aws = [
        option
        for option in AWS_OPTIONS.get(runtime_major, ())
        if option.replace("--no-", "--", 1) not in node_options and accepts(path, option)
    ]
    sandbox = [option for option in SANDBOX_OPTIONS if sandboxed and accepts(path, option)]
    return (*aws, *sandbox)


def startup_environment(environment: Mapping[str, str]) -> dict[str, str]:
    """The function's variables Node.js reads only as it starts (NODE_OPTIONS,
    NODE_EXTRA_CA_CERTS, UV_THREADPOOL_SIZE, ...): a process started ahead of need has
    missed them, so a function that sets any gets a process started with them."""
    return {
        name: value
        for name, value in environment.items()
        if (name.startswith("NODE_") and name not in ("NODE_PATH", "NODE_ENV"))
        or name.startswith("UV_")
    }


def find_node(
    runtime: str, extra: Iterable[str] = (), search_path: str | None = None
) -> Interpreter:
    """The Node.js that runs `runtime` (`nodejsN.x`), or NodeNotFound saying what to do."""
    major = wanted_major(runtime)
    if major is None or major < OLDEST_RUNTIME:
        raise NodeNotFound(
            f"Runtime {runtime} cannot run as a local process: the process executor runs "
            f"nodejs{OLDEST_RUNTIME}.x and newer (with the AWS SDK for JavaScript v3)."
        )
    paths = candidates(extra, search_path)
    hint = INSTALL_HINT.format(minimum=MINIMUM_NODE)
    if not paths:
        raise NodeNotFound(f"Runtime {runtime} needs Node.js, and no `node` was found. {hint}")
    versions = {path: probe(path) for path in paths}
    working = [
        Interpreter(path, version, language="nodejs")
        for path, version in versions.items()
        if version is not None and version[0] >= MINIMUM_NODE
    ]
    chosen = choose(major, working)
    if chosen is None:
        found = ", ".join(
            f"{path} ({f'Node.js {version[0]}.{version[1]}' if version else 'does not run'})"
            for path, version in versions.items()
        )
        raise NodeNotFound(
            f"Runtime {runtime} needs Node.js {MINIMUM_NODE} or newer; found {found}. {hint}"
        )
    return chosen
