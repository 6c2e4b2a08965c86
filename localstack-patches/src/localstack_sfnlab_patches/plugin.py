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
# docstring whose first line says what it restores (README.md lists them). Beside each, the
# LocalStack module it changes when that module imports the service's internals: the patch
# is then imported and applied only once LocalStack loads that service (on its first
# request), so no start-up pays for it. None: applied at start-up (such a patch waits for
# its module by itself, through `import_hooks`, where it needs to).
STEP_FUNCTIONS_PROVIDER = "localstack.services.stepfunctions.provider"
LAMBDA_PROVIDER = "localstack.services.lambda_.provider"
PATCHES: dict[str, str | None] = {
    "gateway_listen_host": None,
    "internal_endpoints_closed": None,
    "lambda_code_private": None,
    "internal_client_connections": None,
    "spent_task_tokens": None,
    "stop_interrupts_token_waits": None,
    "heartbeat_without_heartbeat_seconds": None,
    "early_task_decisions": None,
    "definition_transition_checks": None,
    # After definition_transition_checks, whose check it wraps: the schema's comes first.
    "choice_boolean_operands": None,
    "branch_states_errors": None,
    "heartbeat_timeout_catchable": None,
    "stop_execution_final": None,
    "variables_at_state_entry": None,
    "invalid_token_message": None,
    "execution_names": None,
    # Before send_task_length_limits, whose check of the lengths then comes first.
    "task_output_must_be_json": None,
    "send_task_length_limits": None,
    # Less work for LocalStack, nothing else changed.
    "jsonpath_parse_cache": None,
    "iam_managed_policies_once": None,
    "definition_parse_cache": None,
    "assumed_roles_reused": None,
    "jsonata_in_python": STEP_FUNCTIONS_PROVIDER,
    "assign_strings": STEP_FUNCTIONS_PROVIDER,
    "test_state_retried_errors": STEP_FUNCTIONS_PROVIDER,
    "test_state_failed_task_inspection": STEP_FUNCTIONS_PROVIDER,
    "test_state_after_input_path": STEP_FUNCTIONS_PROVIDER,
    "delete_failed_function": LAMBDA_PROVIDER,
    "lambda_task_pool": LAMBDA_PROVIDER,
    "invoke_payload_is_json": LAMBDA_PROVIDER,
}


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
    from localstack_sfnlab_patches.import_hooks import when_imported

    for name, changed_module in PATCHES.items():
        if changed_module is None:
            apply_patch(name)
        else:
            when_imported(changed_module, lambda _module, name=name: apply_patch(name))


def apply_patch(name: str) -> None:
    module = importlib.import_module(f"{__package__}.{name}")
    module.apply()
    LOG.debug("sfnlab patch applied: %s", name)
