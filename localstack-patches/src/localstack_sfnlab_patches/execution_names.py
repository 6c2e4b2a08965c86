"""StartExecution refuses an execution name AWS refuses, with AWS's InvalidName.

AWS's API reference for StartExecution: a name is 1 to 80 characters and contains no
white space, brackets (`< > { } [ ]`), wildcards (`? *`), special characters
(`" # % \\ ^ | ~ \\` $ & , ; : /`) or control characters (U+0000-001F, U+007F-009F).
LocalStack 4.14.0 checks these rules for activity names but starts an execution under any
name. This patch checks the execution's name with the same rules, before anything is
started, for StartExecution and StartSyncExecution; a call without a name is unchanged.
"""

from __future__ import annotations

from types import ModuleType

from localstack_sfnlab_patches.import_hooks import when_imported

STEP_FUNCTIONS_PROVIDER = "localstack.services.stepfunctions.provider"
CALLS = ("start_execution", "start_sync_execution")


def patch_provider(module: ModuleType) -> None:
    from localstack.utils.patch import Patch

    provider = module.StepFunctionsProvider

    def checks_the_name(original, self, context, state_machine_arn, name=None, *args, **kwargs):
        if name is not None:
            # The rules AWS documents for execution names are those of activity names.
            provider._validate_activity_name(name)
        return original(self, context, state_machine_arn, name, *args, **kwargs)

    for call in CALLS:
        Patch.function(getattr(provider, call), checks_the_name).apply()


def apply() -> None:
    when_imported(STEP_FUNCTIONS_PROVIDER, patch_provider)
