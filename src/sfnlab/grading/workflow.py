"""A solution's definition, read for grading: which state runs which step, where the token goes.

States may have any names, call a Lambda by its ARN as `Resource` or through
`arn:aws:states:::lambda:invoke[.waitForTaskToken]`, and use JSONPath or JSONata: a step
is found by the function its Task invokes, and the task token by the Payload field its
definition maps to `$$.Task.Token` (JSONata: `$states.context.Task.Token`).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from sfnlab.exercise import DEFAULT_PREFIX, STEPS, Step
from sfnlab.workflow.history import function_name

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
WAIT_FOR_TOKEN = ".waitForTaskToken"
JSONPATH_TOKEN = "$$.Task.Token"
JSONATA_TOKEN = re.compile(r"^\{%\s*\$states\.context\.Task\.Token\s*%\}$")
TOKEN_MENTION = re.compile(r"(\$\$|\$states\.context)\.Task\b")
GRADER_STATE = "sfnlab grader: "  # prefix of the states the grader adds to a step's own run


def invoked_function(state: dict) -> tuple[str | None, bool]:
    """The function a Task state invokes, and whether it waits for a task token."""
    resource = state.get("Resource")
    if not isinstance(resource, str):
        return None, False
    if resource.startswith("arn:aws:lambda:"):
        return function_name(resource), False
    if resource in (LAMBDA_INVOKE, LAMBDA_INVOKE + WAIT_FOR_TOKEN):
        arguments = state.get("Parameters") or state.get("Arguments") or {}
        target = arguments.get("FunctionName") if isinstance(arguments, dict) else None
        return function_name(target), resource.endswith(WAIT_FOR_TOKEN)
    return None, False


def all_states(definition: Any) -> list[tuple[str, dict]]:
    """Every state, nested ones (Parallel branches, Map processors) included, main path first."""
    if not isinstance(definition, dict) or not isinstance(definition.get("States"), dict):
        return []
    found = []
    for name, state in definition["States"].items():
        if not isinstance(state, dict):
            continue
        found.append((name, state))
        for branch in state.get("Branches") or []:
            found += all_states(branch)
        for key in ("ItemProcessor", "Iterator"):
            found += all_states(state.get(key))
    return found


def token_path(payload: Any, jsonata: bool, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """Where in a Payload template the task token goes, e.g. ("taskToken",)."""
    if not isinstance(payload, dict):
        return None
    for key, value in payload.items():
        if not jsonata and key.endswith(".$") and isinstance(value, str):
            if value.replace(" ", "") == JSONPATH_TOKEN:
                return (*path, key[:-2])
        elif jsonata and isinstance(value, str) and JSONATA_TOKEN.match(value.strip()):
            return (*path, key)
        found = token_path(value, jsonata, (*path, key))
        if found:
            return found
    return None


def token_expression(arguments: Any, path: tuple[str, ...] = ()) -> tuple[str, str] | None:
    """A field of a Task's arguments whose value is made from the task token (cut, merged,
    transformed) rather than the token itself: ("Payload.taskToken", its expression)."""
    if not isinstance(arguments, dict):
        return None
    for key, value in arguments.items():
        if isinstance(value, str) and TOKEN_MENTION.search(value):
            return ".".join((*path, key.removesuffix(".$"))), value
        found = token_expression(value, (*path, key))
        if found:
            return found
    return None


def value_at(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


@dataclass
class StepState:
    """The state of the solution that runs one step of the exercise."""

    step: Step
    name: str
    state: dict
    waits_for_token: bool
    jsonata: bool

    @property
    def token_path(self) -> tuple[str, ...] | None:
        arguments = self.state.get("Arguments" if self.jsonata else "Parameters") or {}
        return token_path(arguments.get("Payload"), self.jsonata)

    @property
    def token_expression(self) -> tuple[str, str] | None:
        """Where the token goes in a form the grader cannot read it from, if anywhere."""
        arguments = self.state.get("Arguments" if self.jsonata else "Parameters") or {}
        return token_expression(arguments)


@dataclass
class Workflow:
    definition: dict
    prefix: str = DEFAULT_PREFIX
    steps: dict[str, StepState] = field(default_factory=dict)  # step key -> its state

    @classmethod
    def read(cls, definition: dict, prefix: str = DEFAULT_PREFIX) -> Workflow:
        workflow = cls(definition, prefix)
        top_jsonata = definition.get("QueryLanguage") == "JSONata"
        by_function = {step.function_name(prefix): step for step in STEPS}
        for name, state in all_states(definition):
            if state.get("Type") != "Task":
                continue
            function, waits = invoked_function(state)
            step = by_function.get(function or "")
            if step is not None and step.key not in workflow.steps:
                jsonata = state.get("QueryLanguage", "JSONata" if top_jsonata else "") == "JSONata"
                workflow.steps[step.key] = StepState(step, name, state, waits, jsonata)
        return workflow

    @property
    def jsonata(self) -> bool:
        return self.definition.get("QueryLanguage") == "JSONata"

    def state_of(self, step: Step) -> StepState | None:
        return self.steps.get(step.key)

    def missing(self, step: Step) -> str:
        """Feedback for a step no state runs."""
        return (
            f"no state of the definition invokes the {step.title} Lambda "
            f"(${{{step.key}FunctionArn}}), so the workflow never runs that step"
        )

    def steps_on_their_own(self, inputs: dict[str, dict]) -> dict:
        """A definition that runs each step's state on its own, one after the other.

        Before each step a Pass state sets a contract-shaped payload, so a step gets what
        the steps before it should have left, whatever they did; any failure of a step
        is caught, and the next step still runs.
        """
        present = [self.steps[step.key] for step in STEPS if step.key in self.steps]
        states: dict[str, dict] = {}
        done = GRADER_STATE + "done"
        for number, step_state in enumerate(present):
            given = GRADER_STATE + f"payload for {step_state.step.key}"
            after = (
                GRADER_STATE + f"payload for {present[number + 1].step.key}"
                if number + 1 < len(present)
                else done
            )
            payload = inputs[step_state.step.key]
            states[given] = {
                "Type": "Pass",
                ("Output" if self.jsonata else "Result"): payload,
                "Next": step_state.name,
            }
            task = copy.deepcopy(step_state.state)
            task.pop("End", None)
            task["Next"] = after
            task["Catch"] = [{"ErrorEquals": ["States.ALL"], "Next": after}]
            states[step_state.name] = task
        states[done] = {"Type": "Succeed"}
        own = {"StartAt": next(iter(states)), "States": states}
        if self.jsonata:
            own["QueryLanguage"] = "JSONata"
        return own
