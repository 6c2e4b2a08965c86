"""Strings in `Assign` mean what their JSON says, and are recorded in the history as JSON.

LocalStack 4.14.0 keeps a string literal of `Assign` as it is written in the JSON text,
escapes included: `"Assign": {"quote": "\\""}` gives `$quote` two characters, a
backslash and a quote, where AWS gives one. And it records a string variable in the
`assignedVariables` of a state's exit event by putting quotes around it, so that one
reads as three quotes, not JSON; AWS records the JSON text of every value.
"""

from __future__ import annotations

from typing import Any

from localstack.services.stepfunctions.asl.antlt4utils.antlr4utils import from_string_literal
from localstack.services.stepfunctions.asl.component.common.assign import (
    assign_template_value_terminal,
)
from localstack.services.stepfunctions.asl.eval.variable_store import VariableStore
from localstack.services.stepfunctions.asl.parse.preprocessor import Preprocessor
from localstack.services.stepfunctions.asl.utils.encoding import to_json_str


def _assign_string_literal(self: Any, ctx: Any) -> Any:
    return assign_template_value_terminal.AssignTemplateValueTerminalLit(
        value=from_string_literal(ctx.string_literal())
    )


def _assigned_variables(self: VariableStore) -> dict[str, str]:
    # LocalStack's own encoding of every other value, now of strings too.
    return {
        name: to_json_str(value, separators=(",", ":")) for name, value in self.to_dict().items()
    }


def apply() -> None:
    Preprocessor.visitAssign_template_value_terminal_string_literal = _assign_string_literal
    VariableStore.get_assigned_variables = _assigned_variables
