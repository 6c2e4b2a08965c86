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
    "gateway_listen_host",
    "spent_task_tokens",
    "stop_interrupts_token_waits",
    "heartbeat_without_heartbeat_seconds",
    "early_task_decisions",
    "definition_transition_checks",
    "branch_states_errors",
    "heartbeat_timeout_catchable",
    "stop_execution_final",
    "variables_at_state_entry",
    "invalid_token_message",
    # Before send_task_length_limits, whose check of the lengths then comes first.
    "task_output_must_be_json",
    "send_task_length_limits",
)
# Patches whose own modules import Step Functions' internals: imported and applied only
# once LocalStack loads Step Functions (on its first request), so no start-up pays for them.
STEP_FUNCTIONS_PATCHES: tuple[str, ...] = ("jsonata_in_python", "assign_strings")
STEP_FUNCTIONS_PROVIDER = "localstack.services.stepfunctions.provider"


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
        apply_patch(name)
    from localstack_sfnlab_patches.import_hooks import when_imported

    for name in STEP_FUNCTIONS_PATCHES:
        when_imported(STEP_FUNCTIONS_PROVIDER, lambda _module, name=name: apply_patch(name))


def apply_patch(name: str) -> None:
    module = importlib.import_module(f"{__package__}.{name}")
    module.apply()
    LOG.debug("sfnlab patch applied: %s", name)
