"""JSONata evaluated as Step Functions evaluates it, in Python, with `jsonata-python`.

One call, `evaluate(expression, bindings)`: the expression is parsed and run with its
variables (`$states`, the workflow's variables) passed as values, never spliced into
the expression's text, so a string with a quote in it stays a string. The result is
plain JSON (dicts, lists, str, int, float, bool, None), or `UNDEFINED` when the
expression returned nothing: the caller decides what that means for its field.

Step Functions adds six functions (`$partition`, `$range`, `$hash`, `$random`, `$uuid`,
`$parse`, see `step_functions_functions.py`) and takes one away: `$eval`.

Nothing here imports LocalStack; the patch module wires it in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from jsonata import Jsonata
from jsonata.jexception import JException
from jsonata.utils import Utils

from localstack_sfnlab_patches.step_functions_functions import (
    FUNCTIONS,
    StepFunctionsFunctionError,
)

# An expression that runs longer than this is stopped (JSONata has tail calls, so a
# recursive function can loop for ever); Step Functions documents no figure.
TIMEOUT_MS = 10_000


class _Undefined:
    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED: Any = _Undefined()


class JSONataEvaluationError(Exception):
    """The expression could not be evaluated; `str()` is the reason, with JSONata's code."""


class UnsupportedResultError(JSONataEvaluationError):
    """The expression returned something JSON cannot hold (a function, a number out of range)."""


def evaluate(expression: str, bindings: Mapping[str, Any] | None = None) -> Any:
    """The JSON value of `expression` with `bindings` as its `$variables`, or UNDEFINED."""
    variables: dict[str, Any] = dict(FUNCTIONS)
    # JSONata's own $eval is not available in Step Functions (use $parse).
    variables["eval"] = None
    for name, value in (bindings or {}).items():
        # A variable that holds JSON null is null, not undefined.
        variables[name] = Utils.NULL_VALUE if value is None else value
    try:
        # A new instance per call: jsonata-python keeps per-instance state in a
        # thread-local, and every execution evaluates in threads of its own.
        compiled = Jsonata(expression, timeout=TIMEOUT_MS)
        compiled.set_output_convert_nulls(False)
        result = compiled.evaluate(None, variables)
    except JException as error:
        raise JSONataEvaluationError(f"{error.error}: {error}") from None
    except StepFunctionsFunctionError as error:
        raise JSONataEvaluationError(str(error)) from None
    except RecursionError:
        raise JSONataEvaluationError(
            "D1011: Stack overflow. Check for non-terminating recursive function."
        ) from None
    except ZeroDivisionError:
        raise JSONataEvaluationError(
            "D1001: Number out of range: division by zero gives no JSON number"
        ) from None
    except Exception as error:  # the library's own failures on odd input
        raise JSONataEvaluationError(f"{type(error).__name__}: {error}") from None
    if result is None:
        return UNDEFINED
    return to_json(result)


def to_json(value: Any) -> Any:
    """A result as plain, fresh JSON values (the engine's sequences and nulls unwrapped).

    Inside arrays and objects None is JSON null (it comes from the input data).
    """
    if value is None or value is Utils.NULL_VALUE:
        return None
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UnsupportedResultError(f"D1001: Number out of range: {value}")
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    raise UnsupportedResultError(f"a {type(value).__name__} is not a JSON value")


def json_type(value: Any) -> str:
    """JSONata's name for a JSON value's type, as Step Functions' messages use it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
