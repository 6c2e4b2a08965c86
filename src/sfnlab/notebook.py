"""Helpers for the notebooks: the boilerplate, so that each step shows only its idea.

`setup()` makes the kit's own errors show as one paragraph (no traceback) and brings
LocalStack and the inbox up; `try_it()` runs a step that is allowed to fail, for the
cells that show what a mistake looks like; `refused()` expects AWS to refuse a call, and
shows how. (The exercises' checks are in `notebook_checks`.)
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sfnlab.errors import LearnerError
from sfnlab.exercise import LANGUAGES, PYTHON
from sfnlab.explain import explained
from sfnlab.lab import lifecycle
from sfnlab.settings import PROJECT_ROOT, Settings, load_settings


def _show_briefly(shell: Any, kind: type, error: BaseException, traceback: Any, tb_offset=None):
    friendly = explained(error)
    if friendly is None:  # not one a learner can fix: the traceback helps
        shell.showtraceback((kind, error, traceback), tb_offset=tb_offset)
        return None
    print(f"Error: {friendly}")  # one paragraph: what happened and what to do
    return None


def setup(start: bool = True, deploy: bool = True, language: str = PYTHON.name) -> Settings:
    """Show the kit's errors briefly, bring LocalStack and the inbox up, say where they are,
    and make sure SolveIssue is deployed (quick when it already is), with the kit's Lambdas
    in `language`: the `LANGUAGE` a notebook sets in its first code cell."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is not None:
        shell.set_custom_exc((LearnerError, BotoCoreError, ClientError), _show_briefly)
    if language not in LANGUAGES:
        raise LearnerError(
            f"LANGUAGE = {language!r}: the kit's Lambdas are in "
            + " or ".join(f'"{name}"' for name in LANGUAGES)
            + ".",
            hint="Set LANGUAGE in the notebook's first code cell, and run it again.",
        )
    settings = load_settings()
    status = lifecycle.up(settings) if start else lifecycle.status(settings)
    print(status.describe())
    if deploy:
        from sfnlab.deploy import remembered
        from sfnlab.deploy.resources import deploy as deploy_kit

        deployment = deploy_kit(settings, language=language)
        remembered.remember(settings, deployment.request)  # `sfnlab up` brings it back
        changed = deployment.changed
        title = LANGUAGES[language].title
        print(
            f"SolveIssue is deployed with its {title} Lambdas "
            f"({len(changed)} resources changed just now)."
        )
    return settings


def try_it(step: Callable[[], Any]) -> Any:
    """Run `step`; if the kit refuses it, print why instead of stopping the notebook."""
    try:
        return step()
    except (LearnerError, BotoCoreError, ClientError) as error:
        friendly = explained(error)
        if friendly is None:
            raise
        print(f"Refused: {friendly}")
        return None


@contextlib.contextmanager
def refused(*errors: type[ClientError]) -> Iterator[None]:
    """Expect the AWS call inside to be refused with one of `errors` (boto3's
    `sfn.exceptions.TaskTimedOut`, say): print its code and message. Accepted, it raises
    an AssertionError: the lesson expected a refusal."""
    try:
        yield
    except errors as error:
        code, message = error.response["Error"]["Code"], error.response["Error"]["Message"]
        if len(message) > 200:  # a long value quoted whole: its two ends say enough
            message = f"{message[:50]} [...] {message[-100:]}"
        print(f"{code}: {message}")
    else:
        raise AssertionError("The call was accepted, where AWS refuses it.")


def my_solution_folder() -> Path:
    """Where notebook 5 keeps the learner's solution: `my-solution/` in the kit's folder,
    the folder `cp -r starter my-solution` makes (SFNLAB_MY_SOLUTION moves it: the tests
    never touch a learner's work)."""
    return load_settings().my_solution


def starter_folder(language: str = PYTHON.name) -> Path:
    """The starter notebook 5 copies: `starter/`, or `starter-js/` for JavaScript."""
    return PROJECT_ROOT / LANGUAGES[language].starter


def submission_file(settings: Settings) -> Path:
    """Where notebook 5 writes the zip to hand in: `.sfnlab/submission.zip`, as
    `sfnlab submit` does (beside the folder SFNLAB_MY_SOLUTION names, when it is set)."""
    moved = os.environ.get("SFNLAB_MY_SOLUTION")
    return Path(moved).parent / "submission.zip" if moved else settings.home / "submission.zip"


def ensure_jupyterlab() -> None:
    """Install JupyterLab into the kit's environment if it is not there yet (first use).

    It is the `notebooks` dependency group of the kit's lock: the exercise itself does
    without, and its first run downloads a third as much.
    """
    import importlib.util

    if importlib.util.find_spec("jupyterlab") and importlib.util.find_spec("ipykernel"):
        return
    import subprocess
    import sys

    from uv import find_uv_bin

    from sfnlab.errors import InstallFailed
    from sfnlab.support.progress import step

    env = dict(os.environ, UV_PROJECT_ENVIRONMENT=sys.prefix, UV_PYTHON_DOWNLOADS="never")
    env.pop("VIRTUAL_ENV", None)
    command = [os.fsdecode(find_uv_bin()), "sync", "--frozen", "--inexact", "--quiet"]
    command += ["--no-dev", "--group", "notebooks", "--python", sys.executable]
    with step("Installing JupyterLab into the kit's environment (first use only)"):
        done = subprocess.run(command, cwd=PROJECT_ROOT, env=env)
    if done.returncode != 0:
        raise InstallFailed(
            f"Installing JupyterLab failed (uv exited {done.returncode}).",
            hint="Check the network access to PyPI, then run `sfnlab notebook` again.",
        )


def serve(ip: str, port: int, open_browser: bool) -> None:
    """Replace this process with JupyterLab on the guided notebooks (notebooks/)."""
    import sys

    ensure_jupyterlab()
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.ip={ip}",
        f"--ServerApp.port={port}",
        f"--ServerApp.root_dir={PROJECT_ROOT / 'notebooks'}",
    ]
    if not open_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # in a container, say
    os.execv(sys.executable, command)
