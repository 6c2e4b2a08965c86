"""Apply a patch when the LocalStack module it changes is first imported.

LocalStack imports a service's code on the first request to that service. Importing it at
start-up only to patch it would cost every start-up (Step Functions' parser alone takes
about two seconds), so each patch waits for its module instead: wrapt's post-import hook
runs it right after the module is imported, or at once if it already is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import ModuleType

import wrapt

LOG = logging.getLogger(__name__)


def when_imported(module_name: str, patch: Callable[[ModuleType], None]) -> None:
    """Call `patch(module)` once `module_name` is imported.

    A patch that fails is logged and left out: LocalStack then runs as it would without it.
    """

    def hook(module: ModuleType) -> None:
        try:
            patch(module)
        except Exception:
            LOG.exception("sfnlab patch %s could not be applied", patch.__module__)

    wrapt.register_post_import_hook(hook, module_name)
