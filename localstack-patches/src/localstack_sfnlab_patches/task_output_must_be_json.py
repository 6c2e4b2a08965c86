"""SendTaskSuccess with an `output` that is not JSON is refused with InvalidOutput.

LocalStack 4.14.0 accepts any text as a task's output: SendTaskSuccess answers 200 and
the execution then fails with `States.Runtime` when it parses the text, so the reviewer
who mistyped the JSON is told nothing went wrong.

AWS's API reference lists InvalidOutput among SendTaskSuccess's errors, "The provided
JSON output data is not valid.", and describes `output` as "The JSON output of the task".
This patch answers InvalidOutput before the task is touched, so the token stays usable
for a corrected decision. The message is the reference's description: AWS does not
document its exact wording. JSON here is RFC 8259 JSON: `NaN` and `Infinity`, which
Python's parser would take, are refused too.
"""

from __future__ import annotations

import json
from types import ModuleType

from localstack_sfnlab_patches.import_hooks import when_imported

STEP_FUNCTIONS_PROVIDER = "localstack.services.stepfunctions.provider"
MESSAGE = "The provided JSON output data is not valid."


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def is_json(text: str) -> bool:
    try:
        json.loads(text, parse_constant=_refuse_constant)
    except ValueError:
        return False
    return True


def patch_provider(module: ModuleType) -> None:
    from localstack.aws.api.stepfunctions import InvalidOutput
    from localstack.utils.patch import Patch

    def json_output_only(original, self, context, *args, **kwargs):
        output = kwargs["output"] if "output" in kwargs else args[1]
        if isinstance(output, str) and not is_json(output):
            raise InvalidOutput(MESSAGE)
        return original(self, context, *args, **kwargs)

    Patch.function(module.StepFunctionsProvider.send_task_success, json_output_only).apply()


def apply() -> None:
    when_imported(STEP_FUNCTIONS_PROVIDER, patch_provider)
