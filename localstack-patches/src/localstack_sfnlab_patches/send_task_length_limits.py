"""SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat enforce their documented lengths.

LocalStack 4.14.0 does not check the length constraints of the Step Functions API
reference: a SendTaskFailure `cause` of any length is accepted and echoed into the
execution, and an `output` over 256 KiB is accepted and only fails the execution later
(States.DataLimitExceeded). AWS refuses such a request with ValidationException before
it touches the task:

    taskToken  1 to 2,048 characters
    output     at most 262,144 bytes in UTF-8
    error      at most 256 characters
    cause      at most 32,768 characters

The limits are read from the API's service model (the one LocalStack serves), and the
message has AWS's form: "1 validation error detected: Value at 'cause' failed to satisfy
constraint: Member must have length less than or equal to 32768" (sensitive members
without their value).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from localstack_sfnlab_patches.import_hooks import when_imported

STEP_FUNCTIONS_PROVIDER = "localstack.services.stepfunctions.provider"
# Provider method -> (API operation, {request member: the method's parameter}).
CHECKED = {
    "send_task_success": ("SendTaskSuccess", {"taskToken": "task_token", "output": "output"}),
    "send_task_failure": (
        "SendTaskFailure",
        {"taskToken": "task_token", "error": "error", "cause": "cause"},
    ),
    "send_task_heartbeat": ("SendTaskHeartbeat", {"taskToken": "task_token"}),
}
# The API reference counts `output` in UTF-8 bytes; other strings in characters.
MEASURED_IN_BYTES = {"output"}


def length_problems(shape: Any, values: dict[str, Any]) -> list[str]:
    """AWS's wording for each member of `values` outside its shape's length constraint."""
    problems = []
    for member, value in values.items():
        if not isinstance(value, str):
            continue
        member_shape = shape.members[member]
        length = len(value.encode()) if member in MEASURED_IN_BYTES else len(value)
        shown = "" if member_shape.metadata.get("sensitive") else f" '{value}'"
        minimum, maximum = member_shape.metadata.get("min"), member_shape.metadata.get("max")
        if minimum is not None and length < minimum:
            constraint = f"Member must have length greater than or equal to {minimum}"
        elif maximum is not None and length > maximum:
            constraint = f"Member must have length less than or equal to {maximum}"
        else:
            continue
        problems.append(f"Value{shown} at '{member}' failed to satisfy constraint: {constraint}")
    return problems


def validation_message(problems: list[str]) -> str:
    count = len(problems)
    return f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(problems)


def patch_provider(module: ModuleType) -> None:
    from localstack.aws.api.stepfunctions import ValidationException
    from localstack.aws.spec import load_service
    from localstack.utils.patch import Patch

    service = load_service("stepfunctions")

    for method_name, (operation, members) in CHECKED.items():
        method = getattr(module.StepFunctionsProvider, method_name)
        shape = service.operation_model(operation).input_shape

        def within_limits(original, self, context, *args, _shape=shape, _members=members, **kw):
            values = {member: kw.get(parameter) for member, parameter in _members.items()}
            problems = length_problems(_shape, values)
            if problems:
                raise ValidationException(validation_message(problems))
            return original(self, context, *args, **kw)

        Patch.function(method, within_limits).apply()


def apply() -> None:
    when_imported(STEP_FUNCTIONS_PROVIDER, patch_provider)
