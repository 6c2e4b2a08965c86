"""Helpers for the notebooks: the boilerplate, so that each step shows only its idea.

`setup()` makes the kit's own errors show as one paragraph (no traceback) and brings
LocalStack and the inbox up; `try_it()` runs a step that is allowed to fail, for the
cells that show what a mistake looks like.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import EndpointConnectionError

from sfnlab import lifecycle
from sfnlab.config import Settings, load_settings
from sfnlab.errors import KitError


def _show_kit_error(shell: Any, kind: type, error: BaseException, traceback: Any, tb_offset=None):
    print(f"Error: {error}")  # one paragraph: what happened and what to do


def _show_unreachable(shell: Any, kind: type, error: BaseException, traceback: Any, tb_offset=None):
    endpoint = load_settings().endpoint
    print(f"Error: LocalStack is not reachable at {endpoint}. Run the set-up notebook first.")


def setup(start: bool = True, deploy: bool = True) -> Settings:
    """Show the kit's errors briefly, bring LocalStack and the inbox up, say where they are,
    and make sure SolveIssue is deployed (quick when it already is)."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is not None:
        shell.set_custom_exc((KitError, EndpointConnectionError), _dispatch)
    settings = load_settings()
    status = lifecycle.up(settings) if start else lifecycle.status(settings)
    print(status.describe())
    if deploy:
        from sfnlab.deploy import deploy as deploy_kit

        changed = deploy_kit(settings).changed
        print(f"SolveIssue is deployed ({len(changed)} resources changed just now).")
    return settings


def _dispatch(shell: Any, kind: type, error: BaseException, traceback: Any, tb_offset=None):
    if isinstance(error, EndpointConnectionError):
        return _show_unreachable(shell, kind, error, traceback, tb_offset)
    return _show_kit_error(shell, kind, error, traceback, tb_offset)


def try_it(step: Callable[[], Any]) -> Any:
    """Run `step`; if the kit refuses it, print why instead of stopping the notebook."""
    try:
        return step()
    except KitError as error:
        print(f"Refused: {error}")
        return None
