"""A task token Step Functions never issued is refused with AWS's message.

LocalStack 4.14.0 answers InvalidToken for a token it never issued with the message
"Invalid token" (SendTaskSuccess, SendTaskFailure) or none at all (SendTaskHeartbeat).
AWS's API reference gives only the code ("The provided token is not valid."); its
message, `Invalid Token: 'Invalid token'`, is the one AWS's history shows in
LocalStack's own AWS-validated test `test_sfn_send_task_outcome_with_no_such_token`.
This patch words every InvalidToken of the three calls that way; the code, and which
tokens are refused, stay as they are.
"""

from __future__ import annotations

from types import ModuleType

from localstack_sfnlab_patches.import_hooks import when_imported

STEP_FUNCTIONS_PROVIDER = "localstack.services.stepfunctions.provider"
MESSAGE = "Invalid Token: 'Invalid token'"
CALLS = ("send_task_success", "send_task_failure", "send_task_heartbeat")


def patch_provider(module: ModuleType) -> None:
    from localstack.aws.api.stepfunctions import InvalidToken
    from localstack.utils.patch import Patch

    def worded_as_aws(original, self, *args, **kwargs):
        try:
            return original(self, *args, **kwargs)
        except InvalidToken:
            raise InvalidToken(MESSAGE) from None

    for call in CALLS:
        Patch.function(getattr(module.StepFunctionsProvider, call), worded_as_aws).apply()


def apply() -> None:
    when_imported(STEP_FUNCTIONS_PROVIDER, patch_provider)
