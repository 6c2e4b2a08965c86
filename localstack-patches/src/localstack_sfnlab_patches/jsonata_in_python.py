"""Evaluate JSONata in-process, in Python, as Step Functions does: no JVM, nothing downloaded.

LocalStack 4.14.0 hands every JSONata expression (and every `$variable` reference of a
JSONPath state) to jsonata-java through JPype, and installs Java 21 and the jars on
first use: offline the install fails after a network timeout, and the execution ends
in States.Runtime, or waits at its first Task. It also pastes `$states` and the
variables into the expression's text, so a variable holding a quote breaks the
expression, and it has no `$hash`, `$uuid` nor seeded `$random`.

This patch evaluates with `jsonata_engine` (jsonata-python), variables passed as
values, Step Functions' own functions included. A failure fails the state with
States.QueryEvaluationError, its cause worded as AWS words it: "The JSONata
expression '...' specified for the field 'Arguments/Payload' threw an error during
evaluation. T2002: ..." (or "returned nothing (undefined).", or "returned an
unexpected result type. Expected 'boolean', ..."). The field is known from the
fields being evaluated, which this patch tracks per thread (each execution, Map
iteration and Task call evaluates in a thread of its own).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from localstack.aws.api.stepfunctions import EvaluationFailedEventDetails, HistoryEventType
from localstack.services.stepfunctions.asl.component.common import outputdecl, parargs
from localstack.services.stepfunctions.asl.component.common.assign import (
    assign_decl,
    assign_template_binding,
)
from localstack.services.stepfunctions.asl.component.common.error_name import (
    failure_event,
    states_error_name,
    states_error_name_type,
)
from localstack.services.stepfunctions.asl.component.common.jsonata import (
    jsonata_template_binding,
)
from localstack.services.stepfunctions.asl.component.common.query_language import (
    QueryLanguageMode,
)
from localstack.services.stepfunctions.asl.component.common.string import string_expression
from localstack.services.stepfunctions.asl.component.common.timeouts import heartbeat, timeout
from localstack.services.stepfunctions.asl.component.eval_component import EvalComponent
from localstack.services.stepfunctions.asl.component.state.state_choice.comparison import (
    comparison,
)
from localstack.services.stepfunctions.asl.component.state.state_execution.state_map import (
    item_selector,
)
from localstack.services.stepfunctions.asl.component.state.state_execution.state_map.items import (
    items,
)
from localstack.services.stepfunctions.asl.component.state.state_fail import cause_decl, error_decl
from localstack.services.stepfunctions.asl.component.state.state_wait.wait_function import seconds
from localstack.services.stepfunctions.asl.eval.environment import Environment
from localstack.services.stepfunctions.asl.eval.event import event_manager
from localstack.services.stepfunctions.asl.eval.event.event_detail import EventDetails
from localstack.services.stepfunctions.asl.jsonata import jsonata, validations

from localstack_sfnlab_patches.jsonata_engine import (
    UNDEFINED,
    JSONataEvaluationError,
    UnsupportedResultError,
    evaluate,
    json_type,
)

LOG = logging.getLogger(__name__)

# The fields being evaluated in this thread, outermost first: ["Arguments", "Payload"].
_fields = threading.local()


def _field_stack() -> list[str]:
    if not hasattr(_fields, "stack"):
        _fields.stack = []
    return _fields.stack


@contextmanager
def _in_field(name: str) -> Iterator[None]:
    stack = _field_stack()
    stack.append(name)
    try:
        yield
    finally:
        stack.pop()


def _field() -> str:
    return "/".join(_field_stack())


def _track_field(component_class: type[EvalComponent], name: Callable[[Any], str]) -> None:
    """Evaluating a `component_class` evaluates the field `name(component)`."""
    evaluate_component = component_class.eval

    def eval(self: Any, env: Environment) -> None:
        with _in_field(name(self)):
            evaluate_component(self, env)

    component_class.eval = eval


def _shown(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class _Recorded(dict):
    """Details of an EvaluationFailed event this patch has already put in the history."""


class _RecordedFailure(failure_event.FailureEventException):
    """A QueryEvaluationError whose EvaluationFailed event is in the history already.

    LocalStack's Task and Map states record the failure of what they evaluate once
    more (a Task without the state's name in it); AWS records it once.
    """

    def get_evaluation_failed_event_details(self) -> Any:
        return _Recorded(super().get_evaluation_failed_event_details())


def _recorded(event_details: Any) -> bool:
    return isinstance(event_details, _Recorded) or isinstance(
        (event_details or {}).get("evaluationFailedEventDetails"), _Recorded
    )


def _recording_once(add_event: Callable) -> Callable:
    def add_event_once(self: Any, context: Any, event_type: Any, event_details: Any = None, **kw):
        if _recorded(event_details):
            return context.last_published_event_id
        return add_event(self, context, event_type, event_details, **kw)

    return add_event_once


def _fail(env: Environment, expression: str, problem: str) -> failure_event.FailureEventException:
    """States.QueryEvaluationError for `expression`, recorded in the history as AWS does."""
    field = _field()
    where = f" specified for the field '{field}'" if field else ""
    error_name = states_error_name.StatesErrorName(
        typ=states_error_name_type.StatesErrorNameType.StatesQueryEvaluationError
    )
    details = EvaluationFailedEventDetails(
        error=error_name.error_name, cause=f"The JSONata expression '{expression}'{where} {problem}"
    )
    if field:
        details["location"] = field
    failure = _RecordedFailure(
        failure_event=failure_event.FailureEvent(
            env=env,
            error_name=error_name,
            event_type=HistoryEventType.EvaluationFailed,
            event_details=_Recorded(EventDetails(evaluationFailedEventDetails=details)),
        )
    )
    # Recorded here, where the state's name and entry are known, and nowhere else.
    recorded = failure_event.FailureEventException.get_evaluation_failed_event_details(failure)
    env.event_manager.add_event(
        context=env.event_history_context,
        event_type=HistoryEventType.EvaluationFailed,
        event_details=EventDetails(evaluationFailedEventDetails=recorded),
    )
    return failure


def _variables(env: Environment) -> dict[str, Any]:
    store = env.variable_store
    # The store keeps the variables of enclosing scopes apart from this scope's own.
    return {**store._outer_scope, **store._inner_scope}


def _states(env: Environment) -> dict[str, Any]:
    return dict(env.states._states_data)


def _evaluate_or_fail(env: Environment, expression: str, bindings: dict[str, Any]) -> Any:
    try:
        return evaluate(expression, bindings)
    except UnsupportedResultError:
        raise _fail(env, expression, "returned an unsupported result type.") from None
    except JSONataEvaluationError as error:
        raise _fail(env, expression, f"threw an error during evaluation. {error}") from None


def _eval_string_jsonata(self: Any, env: Environment) -> None:
    """`{% expression %}` in a JSONata state: its value, or the state fails."""
    bindings = _variables(env)
    bindings["states"] = _states(env)
    result = _evaluate_or_fail(env, self.expression, bindings)
    if result is UNDEFINED:
        raise _fail(env, self.expression, "returned nothing (undefined).")
    env.stack.append(result)


def _eval_variable_sample(self: Any, env: Environment) -> None:
    """`$variable.path` where a JSONPath state reads a workflow variable."""
    bindings = _variables(env)
    if self.query_language_mode == QueryLanguageMode.JSONata:
        bindings["states"] = _states(env)
    result = _evaluate_or_fail(env, self.expression, bindings)
    env.stack.append(None if result is UNDEFINED else result)


def _eval_text(expression: str) -> Any:
    """LocalStack's module-level entry point, for any other caller: a whole expression."""
    try:
        result = evaluate(expression)
    except JSONataEvaluationError as error:
        raise jsonata.JSONataException(type(error).__name__, str(error)) from None
    return None if result is UNDEFINED else result


def _no_jvm() -> Any:
    raise RuntimeError("JSONata is evaluated in-process (sfnlab patch); the JVM bridge is off")


def _expect(env: Environment, field: Any, wanted: str, accepts: Callable[[Any], bool]) -> Any:
    """Evaluate the StringJSONata `field` and check its value is of the kind `wanted`."""
    field.eval(env=env)
    value = env.stack.pop()
    if not accepts(value):
        raise _fail(
            env,
            field.expression,
            f"returned an unexpected result type. Expected {wanted}, but was "
            f"'{json_type(value)}' for value: {_shown(value)}",
        )
    return value


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _condition(self: Any, env: Environment) -> None:
    env.stack.append(_expect(env, self.string_jsonata, "'boolean'", _is_boolean))


def _positive_seconds(self: Any, env: Environment) -> int:
    return _expect(env, self.string_jsonata, "a positive integer", lambda v: _is_whole(v) and v > 0)


def _wait_seconds(self: Any, env: Environment) -> int:
    return _expect(
        env, self.string_jsonata, "a non-negative integer", lambda v: _is_whole(v) and v >= 0
    )


def _string_only(evaluate_field: Callable[[Any, Environment], None]) -> Callable:
    """A Fail state's Error or Cause: a JSONata expression there must give a string."""

    def _eval_body(self: Any, env: Environment) -> None:
        if isinstance(self.string_expression, string_expression.StringJSONata):
            env.stack.append(_expect(env, self.string_expression, "'string'", _is_text))
        else:
            evaluate_field(self, env)

    return _eval_body


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_boolean(value: Any) -> bool:
    return isinstance(value, bool)


def apply() -> None:
    """Route every JSONata evaluation through jsonata-python, and name the field that fails."""
    string_expression.StringJSONata._eval_body = _eval_string_jsonata
    string_expression.StringVariableSample._eval_body = _eval_variable_sample
    for module in (jsonata, string_expression, validations):
        module.eval_jsonata_expression = _eval_text
    jsonata._eval_jsonata = _eval_text
    jsonata._JSONataJVMBridge.get = staticmethod(_no_jvm)
    manager = event_manager.EventManager
    manager.add_event = _recording_once(manager.add_event)

    comparison.ConditionStringJSONata._eval_body = _condition
    timeout.TimeoutSecondsJSONata._eval_seconds = _positive_seconds
    heartbeat.HeartbeatSecondsJSONata._eval_seconds = _positive_seconds
    seconds.SecondsJSONata._get_wait_seconds = _wait_seconds
    for decl in (error_decl.Error, cause_decl.Cause):
        decl._eval_body = _string_only(decl._eval_body)

    fields: list[tuple[type[EvalComponent], Callable[[Any], str]]] = [
        (outputdecl.Output, lambda _: "Output"),
        (parargs.ArgumentsJSONataTemplateValueObject, lambda _: "Arguments"),
        (parargs.ArgumentsStringJSONata, lambda _: "Arguments"),
        (assign_decl.AssignDecl, lambda _: "Assign"),
        (assign_template_binding.AssignTemplateBinding, lambda binding: binding.identifier),
        (jsonata_template_binding.JSONataTemplateBinding, lambda binding: binding.identifier),
        (comparison.ConditionStringJSONata, lambda _: "Condition"),
        (items.ItemsJSONata, lambda _: "Items"),
        (items.ItemsArray, lambda _: "Items"),
        (item_selector.ItemSelector, lambda _: "ItemSelector"),
        (timeout.TimeoutSecondsJSONata, lambda _: "TimeoutSeconds"),
        (heartbeat.HeartbeatSecondsJSONata, lambda _: "HeartbeatSeconds"),
        (seconds.SecondsJSONata, lambda _: "Seconds"),
        (error_decl.Error, lambda _: "Error"),
        (cause_decl.Cause, lambda _: "Cause"),
    ]
    for component_class, name in fields:
        _track_field(component_class, name)
    LOG.debug("JSONata is evaluated in-process by jsonata-python")
