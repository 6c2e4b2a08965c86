"""The start-up hook that applies the kit's patches to LocalStack.

LocalStack runs every plugin of the entry-point group `localstack.hooks.on_infra_start`
before it opens its gateway and before any service loads, so a patch applied here is in
place for the first request. Importing this module stays cheap: each patch module is
imported only once the version check has passed.

Every patch is written against LocalStack 4.14.0 and nothing else: on another version the
hook applies none of them and says so in LocalStack's log.
"""

from __future__ import annotations

import importlib
import logging

from localstack.runtime import hooks

LOG = logging.getLogger(__name__)

SUPPORTED_VERSION = "4.14.0"

# One module per patch, named for what it fixes; each has `apply() -> None` and a
# docstring whose first line says which AWS behaviour it restores (README.md lists them).
PATCHES: tuple[str, ...] = (
    "delete_failed_function",
    "internal_client_connections",
    "invoke_payload_is_json",
    "stepfunctions_jsonpath_cache",
)


def localstack_version() -> str:
    from localstack import version

    return version.__version__


@hooks.on_infra_start(priority=100)
def apply_sfnlab_patches() -> None:
    version = localstack_version()
    if version != SUPPORTED_VERSION:
        LOG.warning(
            "sfnlab patches not applied: they are written for LocalStack %s, this is %s",
            SUPPORTED_VERSION,
            version,
        )
        return
    for name in PATCHES:
        module = importlib.import_module(f"{__package__}.{name}")
        module.apply()
        LOG.debug("sfnlab patch applied: %s", name)
