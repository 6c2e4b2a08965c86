"""A solution's files, checked before anything runs: the grader's checks, and `sfnlab submit`'s.

A solution is a folder laid out like `starter/` (or `starter-js/`): the definition
`definitions/SolveIssueStepFunction.json` and one handler file per Lambda in `lambdas/`,
each in Python or JavaScript (`create_code.py` or `createCode.js`: the file says the
step's language, see `sfnlab.deploy.step_code`), helpers of the learner's own beside
them. These are the only files the grader reads.

`check()` sorts what it finds in two:
- problems: the grader cannot run the solution as it is (a file the contract names is
  missing, the definition is not one Step Functions accepts, a link out of the folder, a
  file too large). `sfnlab submit` hands nothing in, and PrairieLearn is told the
  submission is not gradable (it costs the learner no attempt);
- warnings: it runs, and these will cost points (a step the definition never invokes, a
  handler that does not compile).

The grader itself reads the definition through `definition()` and refuses links and
oversized files with `refuse_links_out()` and `refuse_oversized()`: the same code, so what
`submit` lets through is what the grader takes.
"""

from __future__ import annotations

import ast
import os
import re
import stat
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sfnlab.deploy.definition import load_template, render_definition, structural_problems
from sfnlab.deploy.functions import function_arns
from sfnlab.deploy.step_code import CODE_SUFFIXES, read_step_files
from sfnlab.errors import DefinitionError
from sfnlab.exercise import (
    APPROVE,
    DEFAULT_PREFIX,
    DEFINITION_FILE,
    JAVASCRIPT,
    LAMBDAS_FOLDER,
    PYTHON,
    STEPS,
    Language,
)

# What a solution may weigh. Step Functions takes a definition of up to 1 MB; the
# exercise's own files are a few KB each.
MAX_FILE_BYTES = 1024 * 1024
MAX_TOTAL_BYTES = 4 * 1024 * 1024
MAX_FILES = 100
HANDLER = PYTHON.handler
REVIEW_TIMEOUT = 300  # seconds the grader gives a review (its Lambdas decide at once)
ACCOUNT_FOR_CHECKS = "000000000000"  # an account for the ARNs of a definition checked offline
REGION_FOR_CHECKS = "us-east-1"


@dataclass
class Findings:
    """What `check()` found in a solution folder."""

    folder: Path
    files: list[Path] = field(default_factory=list)  # what the grader reads, relative
    problems: list[str] = field(default_factory=list)  # it cannot run as it is
    warnings: list[str] = field(default_factory=list)  # it runs, and loses points for these
    left_out: list[Path] = field(default_factory=list)  # files the grader does not read

    @property
    def gradable(self) -> bool:
        return not self.problems

    @property
    def total_bytes(self) -> int:
        return sum((self.folder / path).stat().st_size for path in self.files)


def handler_files(language: Language = PYTHON) -> list[Path]:
    """The handler file of every Lambda in `language`: `lambdas/create_code.py`, ..., the
    approve Lambda's (`lambdas/createCode.js`, ... in JavaScript)."""
    return [LAMBDAS_FOLDER / language.file_name(step) for step in [*STEPS, APPROVE]]


def solution_files(folder: Path) -> list[Path]:
    """The files of `folder` the grader reads (relative): the definition and the Python and
    JavaScript files of lambdas/."""
    found = [DEFINITION_FILE] if os.path.lexists(folder / DEFINITION_FILE) else []
    lambdas = folder / LAMBDAS_FOLDER
    if lambdas.is_dir():  # a link to a folder elsewhere is refused by refuse_links_out
        found += sorted(
            path.relative_to(folder)
            for path in lambdas.iterdir()
            if path.suffix in CODE_SUFFIXES and os.path.lexists(path)
        )
    return found


def other_files(folder: Path, read: list[Path], at_most: int = 200) -> list[Path]:
    """Files under `folder` the grader does not read (hidden folders and caches aside; the
    first `at_most` found: they are only named to the learner)."""
    found: list[Path] = []
    for root, folders, files in os.walk(folder):
        folders[:] = sorted(name for name in folders if not name.startswith((".", "__")))
        for name in sorted(files):
            relative = Path(root, name).relative_to(folder)
            if relative not in read and not name.startswith("."):
                found.append(relative)
                if len(found) >= at_most:
                    return found
    return found


# The grader's own refusals ---------------------------------------------------------------


def refuse_links_out(folder: Path, paths: list[Path], error: type[Exception]) -> None:
    """Refuse a file of the solution that is a link to somewhere outside it.

    Packaging and reading follow links as the instructor: a link to `~/.aws/credentials`
    or a classmate's file would carry that file into the sandbox, or into the report.
    """
    root = folder.resolve()
    for path in paths:
        target = path.resolve()
        if target != root and root not in target.parents:
            raise error(
                f"{path.relative_to(folder)} is a link to a file outside the solution; "
                "the grader reads only the solution's own files (copy the file in instead)"
            )


def refuse_oversized(folder: Path, paths: list[Path], error: type[Exception]) -> None:
    """Refuse what is not a plain file, or weighs more than a solution may (see the limits)."""
    if len(paths) > MAX_FILES:
        raise error(
            f"the solution has {len(paths)} files in {LAMBDAS_FOLDER}/ and definitions/; "
            f"it may have at most {MAX_FILES}"
        )
    total = 0
    for path in paths:
        if not os.path.lexists(path):
            continue  # a missing file is reported as such, elsewhere
        info = path.stat()  # after refuse_links_out: a link inside the folder is followed
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{path.relative_to(folder)} is not a plain file")
        if info.st_size > MAX_FILE_BYTES:
            raise error(
                f"{path.relative_to(folder)} is {size_text(info.st_size)}; a file of a "
                f"solution may be at most {size_text(MAX_FILE_BYTES)}"
            )
        total += info.st_size
    if total > MAX_TOTAL_BYTES:
        raise error(
            f"the solution's files come to {size_text(total)}; together they may be at most "
            f"{size_text(MAX_TOTAL_BYTES)}"
        )


def size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    return f"{size / 1024:.0f} KB" if size >= 1024 else f"{size} bytes"


def definition(
    folder: Path,
    *,
    account: str = ACCOUNT_FOR_CHECKS,
    region: str = REGION_FOR_CHECKS,
    prefix: str = DEFAULT_PREFIX,
) -> dict[str, Any]:
    """The solution's definition as the grader deploys it: read as UTF-8 JSON, each
    `${...FunctionArn}` filled in; raises DefinitionError when that cannot be done."""
    refuse_links_out(folder, [folder / DEFINITION_FILE], DefinitionError)
    template = load_template(folder / DEFINITION_FILE)
    arns = function_arns(prefix, account, region)  # known before the functions exist
    rendered = render_definition(template, arns, REVIEW_TIMEOUT, None)
    if not isinstance(rendered, dict):
        raise DefinitionError(f"{DEFINITION_FILE} holds JSON, but not a JSON object.")
    return rendered


# The checks before anything runs ----------------------------------------------------------


def check(folder: Path) -> Findings:
    """Check a solution folder as the grader will take it, without running anything."""
    findings = Findings(folder)
    if not folder.is_dir():
        findings.problems.append(f"there is no folder {folder}")
        return findings
    findings.files = solution_files(folder)
    findings.left_out = other_files(folder, findings.files)
    if DEFINITION_FILE not in findings.files:
        findings.problems.append(f"{DEFINITION_FILE} is missing")
    steps = read_step_files(folder / LAMBDAS_FOLDER)
    findings.problems += steps.problems
    handlers = {LAMBDAS_FOLDER / code.file for code in steps.code.values() if code.present}
    for check_files in (refuse_links_out, refuse_oversized):
        try:
            check_files(folder, [folder / path for path in findings.files], ValueError)
        except ValueError as e:
            findings.problems.append(str(e))
            return findings  # nothing more is read from such a folder
    if DEFINITION_FILE in findings.files:
        check_definition(folder, findings)
    for path in findings.files:
        if path != DEFINITION_FILE:
            problem = handler_problem(folder / path, path in handlers)
            if problem:
                findings.warnings.append(f"{path}: {problem}")
    return findings


def check_definition(folder: Path, findings: Findings) -> None:
    from sfnlab.grading.workflow import Workflow

    try:
        rendered = definition(folder)
    except DefinitionError as e:
        findings.problems.append(str(e.message))
        return
    problems = structural_problems(rendered)
    if problems:
        findings.problems.append(
            f"Step Functions would refuse {DEFINITION_FILE}: " + "; ".join(problems)
        )
    workflow = Workflow.read(rendered)
    for step in STEPS:
        if workflow.state_of(step) is None:
            findings.warnings.append(f"{DEFINITION_FILE}: {workflow.missing(step)}")


# One parse at a time: on Python 3.11, two threads building AST objects at once can fail
# with a spurious "SystemError: AST constructor recursion depth mismatch" (CPython
# gh-106905), and the grader checks several solutions at once, each on a thread.
_PARSING = threading.Lock()


def handler_problem(path: Path, is_handler: bool) -> str | None:
    """Why a Lambda file cannot work as it is (it does not compile, or has no handler)."""
    if path.suffix in JAVASCRIPT.suffixes:
        return javascript_problem(path, is_handler)
    source = path.read_bytes()
    try:
        with _PARSING:
            tree = ast.parse(source, filename=path.name)
    except SyntaxError as e:
        return f"it does not compile: {e.msg} (line {e.lineno})"
    except ValueError as e:  # a NUL byte, say
        return f"it cannot be read as Python: {e}"
    if is_handler and HANDLER not in top_level_names(tree):
        return f"it defines no {HANDLER}, the function each Lambda's handler setting names"
    return None


# A JavaScript file that names `handler` (exports.handler = ..., export const handler,
# export { x as handler }), or hands on another module's exports whole.
NAMES_HANDLER = re.compile(r"\bhandler\b")
EXPORTS_ANOTHER = re.compile(r"module\.exports\s*=\s*require\s*\(|export\s*\*\s*from")


def javascript_problem(path: Path, is_handler: bool) -> str | None:
    """Why a JavaScript file cannot work as it is: Node.js cannot parse it (when Node.js is
    here: it only parses, it runs nothing), or a handler file never names `handler`."""
    try:
        source = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        return f"it cannot be read as JavaScript: {e}"
    syntax = javascript_syntax_error(path)
    if syntax:
        return f"it does not parse: {syntax}"
    if is_handler and not (NAMES_HANDLER.search(source) or EXPORTS_ANOTHER.search(source)):
        return (
            f"it exports no {JAVASCRIPT.handler}, the function each Lambda's handler setting "
            f"names (`exports.{JAVASCRIPT.handler} = async (event, context) => ...`)"
        )
    return None


def javascript_syntax_error(path: Path) -> str | None:
    """Node.js's own words for a syntax error in `path`, parsed as the runtime loads it
    (`.js` as CommonJS, `.mjs` as an ES module); None without Node.js here."""
    from localstack_process_executor import node_finder

    try:
        node = node_finder.find_node(JAVASCRIPT.runtime)
    except node_finder.NodeNotFound:
        return None
    # With the options the process executor runs the runtime with (AWS's own).
    runtime_major = node_finder.wanted_major(JAVASCRIPT.runtime) or node.version[0]
    options = node_finder.options_for(runtime_major, node.path)
    try:
        done = subprocess.run(
            [node.path, *options, "--check", str(path)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode == 0:
        return None
    found = re.search(r"^(SyntaxError: .*)$", done.stderr, re.MULTILINE)
    line = re.search(rf"{re.escape(path.name)}:(\d+)", done.stderr)
    said = found.group(1) if found else (done.stderr.strip().splitlines() or ["?"])[-1]
    return said + (f" (line {line.group(1)})" if line else "")


def top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def describe(findings: Findings, on_problem: Callable[[str], str] = str) -> list[str]:
    """The findings as lines for a person: problems first, then warnings."""
    lines = [on_problem(problem) for problem in findings.problems]
    return lines + [f"warning: {warning}" for warning in findings.warnings]
