"""One state of a definition tested alone, with Step Functions' TestState API.

TestState runs a single state on the input you give it, and with the DEBUG inspection
level it shows every step of the state's data flow: the input, after InputPath, after
Parameters (what a Task sends), the result, after ResultSelector, after ResultPath, and
the output after OutputPath; then the state's outcome (`status`: SUCCEEDED, FAILED,
CAUGHT_ERROR or RETRIABLE) and the state that would come next. A Task's result can be
mocked (`mock_result`, or `mock_error` for an error it raises): the Lambda is not called,
and need not be deployed. Without a mock, the Task calls the deployed function.

The definition is the exercise's template (or a learner's own), its `${...}` placeholders
filled in as `sfnlab deploy` fills them: the functions' ARNs in the current account, and
the review's timeout and heartbeat. The whole definition is sent with the state's name
(TestState's `stateName`), so the state's `Next`, `Catch` and `Default` name real states.
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sfnlab.deploy.definition import load_template, render_definition
from sfnlab.deploy.functions import function_arns
from sfnlab.errors import DefinitionError, LearnerError
from sfnlab.exercise import (
    DEFAULT_PREFIX,
    DEFAULT_REVIEW_HEARTBEAT,
    DEFAULT_REVIEW_TIMEOUT,
    DEFINITION_FILE,
    role_name,
)
from sfnlab.settings import PROJECT_ROOT, Settings
from sfnlab.support.aws import client
from sfnlab.workflow.history import parse_json

# The data flow's steps in the order a state goes through them, as TestState names them,
# each with the state's field that makes the step (JSONPath, then JSONata).
STEPS_OF_THE_DATA_FLOW = [
    ("input", "Input", None),
    ("afterInputPath", "After InputPath", "InputPath"),
    ("afterParameters", "After Parameters", "Parameters"),
    ("afterArguments", "After Arguments", "Arguments"),
    ("result", "Result", None),
    ("afterResultSelector", "After ResultSelector", "ResultSelector"),
    ("afterResultPath", "After ResultPath", "ResultPath"),
]
NOT_DEPLOYED = (
    "The function is not deployed: run `sfnlab deploy` first, or mock its result "
    "(--mock-result) to test the state without calling it."
)
# A field a state does not set behaves as this (AWS's defaults).
DEFAULTS = {"InputPath": "$", "ResultPath": "$", "OutputPath": "$"}


@dataclass(frozen=True)
class DataFlowStep:
    """One step of a state's data flow: what the value was after it."""

    name: str  # TestState's name for it: afterResultPath, ...
    title: str  # as a learner reads it: After ResultPath
    value: Any  # the JSON value
    setting: str | None = None  # the state's field that made it: "ResultPath: $.review"


@dataclass(frozen=True)
class StateTest:
    """What TestState says of one state on one input."""

    state: str
    state_type: str
    status: str  # SUCCEEDED, FAILED, CAUGHT_ERROR or RETRIABLE
    next_state: str | None = None
    output: Any = None
    has_output: bool = False
    output_setting: str = ""  # how the state sets OutputPath (or JSONata's Output)
    error: str | None = None
    cause: str | None = None
    steps: list[DataFlowStep] = field(default_factory=list)
    error_details: dict[str, Any] = field(default_factory=dict)
    mocked: bool = False
    note: str | None = None  # what to do about the outcome, when the kit can tell

    def why_no_next_state(self) -> str:
        if self.status == "RETRIABLE":
            wait = self.error_details.get("retryBackoffIntervalSeconds")
            after = f" after {wait} s" if wait is not None else ""
            return f"(none: its Retry would run {self.state} again{after})"
        if self.status == "FAILED":
            return "(none: the execution would fail here)"
        return "(none: the execution would end here)"

    def step(self, name: str) -> DataFlowStep | None:
        return next((step for step in self.steps if step.name == name), None)

    def step_names(self) -> list[str]:
        """The steps TestState showed, in order, with `output` last when there is one."""
        return [step.name for step in self.steps] + (["output"] if self.has_output else [])

    def block(self, name: str) -> str:
        """One step as `text()` shows it: its title, the field that made it, its value."""
        if name == "output" and self.has_output:
            return f"Output  [{self.output_setting}]\n{indented(self.output)}"
        step = self.step(name)
        if step is None:
            raise LearnerError(
                f"The test of {self.state} shows no step {name!r}.",
                hint=f"Its steps: {', '.join(self.step_names()) or 'none'}.",
            )
        title = step.title + (" (mocked)" if step.name == "result" and self.mocked else "")
        if step.setting is not None:
            title += f"  [{step.setting}]"
        return f"{title}\n{indented(step.value)}"

    def text(self, *steps: str) -> str:
        """The data flow step by step, then the outcome, as a learner reads it.

        Given the names of some steps (`"afterParameters"`, `"result"`, ... and `"output"`
        for the output), those steps alone, in the same form: to read a long data flow a
        few steps at a time."""
        if steps:
            return "\n\n".join(self.block(name) for name in steps)
        lines = [f"{self.state} ({self.state_type} state)"]
        lines += ["\n" + self.block(name) for name in self.step_names()]
        lines += ["", f"Status: {self.status}"]
        if self.error is not None:
            lines.append(f"Error: {self.error}" + (f" ({self.cause})" if self.cause else ""))
        if self.error_details:
            lines.append("Error details: " + json.dumps(self.error_details, sort_keys=True))
        lines.append(f"Next state: {self.next_state or self.why_no_next_state()}")
        if self.note:
            lines += ["", self.note]
        return "\n".join(lines)


def indented(value: Any) -> str:
    return "\n".join("  " + line for line in json.dumps(value, indent=2).splitlines())


def load_definition(
    settings: Settings, definition: Path | str | dict, prefix: str = DEFAULT_PREFIX
) -> tuple[dict, str]:
    """The definition (a file, or one held in Python: a changed copy of a template) with
    its placeholders filled in, as deploy would; and how to name it in a message."""
    if isinstance(definition, dict):
        template, source = definition, "The definition"
    elif isinstance(definition, str | os.PathLike):
        template, source = load_template(Path(definition)), str(shown(Path(definition)))
    else:
        raise DefinitionError(
            f"A definition is a file's path or a state machine's dict, not {definition!r:.60}."
        )
    arns = function_arns(prefix, settings.account_id, settings.region)
    rendered = render_definition(
        template, arns, DEFAULT_REVIEW_TIMEOUT, DEFAULT_REVIEW_HEARTBEAT, source
    )
    if not isinstance(rendered, dict) or not isinstance(rendered.get("States"), dict):
        raise DefinitionError(
            f'{source} has no "States" object: it is not a state machine definition.',
            hint="Give a state machine's ASL: a file with --definition, or its dict.",
        )
    return rendered, source


def shown(path: Path) -> Path:
    """A path as the learner would type it: relative to where they are, when inside."""
    for base in (Path.cwd(), PROJECT_ROOT):
        if path.resolve().is_relative_to(base.resolve()):
            return path.resolve().relative_to(base.resolve())
    return path


def find_state(definition: dict, state: str, source: str) -> dict:
    states = definition["States"]
    if isinstance(states.get(state), dict):
        return states[state]
    names = list(states)
    close = difflib.get_close_matches(state, names, n=1)
    hint = f"Did you mean {close[0]}? " if close else ""
    raise LearnerError(
        f"{source} has no state named {state!r}.",
        hint=f"{hint}Its states: {', '.join(names)}.",
    )


def test_state(
    settings: Settings,
    state: str,
    *,
    definition: Path | str | dict | None = None,
    input: Any = None,  # TestState's own word for it
    mock_result: Any = None,
    mock_error: tuple[str, str] | None = None,
    prefix: str = DEFAULT_PREFIX,
) -> StateTest:
    """Run TestState on one state of `definition` at the DEBUG inspection level: the
    exercise's file by default, another file, or a definition held in Python (a changed
    copy of a template, `${...}` placeholders and all). `input` is the state's input
    (default `{}`), `mock_result` what its task returns instead of calling anything,
    `mock_error` an (error, cause) it raises instead. Raises LearnerError for a state that
    is not there, a definition that cannot be read, or a request Step Functions refuses."""
    rendered, source = load_definition(
        settings, PROJECT_ROOT / DEFINITION_FILE if definition is None else definition, prefix
    )
    state_definition = find_state(rendered, state, source)
    mocked = mock_result is not None or mock_error is not None
    if mock_result is not None and mock_error is not None:
        raise LearnerError("Mock a result or an error, not both.")
    resource = str(state_definition.get("Resource", ""))
    if not mocked and resource.endswith(".waitForTaskToken"):
        # AWS refuses it (TestState cannot hand a token back); LocalStack 4.14 would call
        # the Lambda and wait for a decision until the task's timeout.
        raise LearnerError(
            f"{state} waits for a task token ({resource.rsplit(':', 1)[-1]}), which TestState "
            "cannot hand back.",
            hint="Mock the decision SendTaskSuccess would bring: --mock-result "
            "(mock_result= in Python), or an error with --mock-error (mock_error=).",
        )
    if mocked and state_definition.get("Type") != "Task":
        raise LearnerError(
            f"{state} is a {state_definition.get('Type')} state: only a Task's result can be "
            "mocked (it calls something; other states only move data).",
            hint="Test it without a mocked result, giving the input it would get instead.",
        )
    request: dict[str, Any] = {
        "definition": json.dumps(rendered),
        "stateName": state,
        "input": json.dumps({} if input is None else input),
        "inspectionLevel": "DEBUG",
    }
    if mock_result is not None:
        request["mock"] = {"result": json.dumps(mock_result)}
    elif mock_error is not None:
        request["mock"] = {"errorOutput": {"error": mock_error[0], "cause": mock_error[1]}}
    elif state_definition.get("Type") == "Task":
        # A Task that really runs does so as the state machine would: as its role.
        request["roleArn"] = (
            f"arn:aws:iam::{settings.account_id}:role/{role_name(prefix, 'states')}"
        )
    sfn = client("stepfunctions", settings)
    try:
        answer = sfn.test_state(**request)
    except (sfn.exceptions.ValidationException, sfn.exceptions.InvalidDefinition) as error:
        message = error.response["Error"].get("Message", "")
        raise LearnerError(
            f"Step Functions refuses to test {state}: {message.rstrip('.')}.",
            hint=refusal_hint(state_definition, mocked),
        ) from None
    return read_answer(state, state_definition, answer, mocked)


test_state.__test__ = False  # a library function, not one of pytest's tests


def refusal_hint(state_definition: dict, mocked: bool) -> str:
    if mocked:
        return (
            "A mocked result of `lambda:invoke` is Lambda's Invoke response, whose Payload "
            "is text; of `.waitForTaskToken`, whatever SendTaskSuccess would send back."
        )
    return "Fix the state or the input, then try again."


def read_answer(state: str, state_definition: dict, answer: dict, mocked: bool) -> StateTest:
    data = answer.get("inspectionData") or {}
    steps = [
        DataFlowStep(name, title, parse_json(data[name]), setting_of(state_definition, key))
        for name, title, key in STEPS_OF_THE_DATA_FLOW
        if name in data
    ]
    caught_by = (data.get("errorDetails") or {}).get("catchIndex")
    if answer.get("status") == "CAUGHT_ERROR" and caught_by is not None:
        # Then the ResultPath at work is the catcher's, which places the error.
        catchers = state_definition.get("Catch") or []
        catcher = catchers[caught_by] if caught_by < len(catchers) else {}
        steps = [
            replace(
                step,
                title="After the Catch's ResultPath",
                setting=f"Catch[{caught_by}] {setting_of(catcher, 'ResultPath')}",
            )
            if step.name == "afterResultPath"
            else step
            for step in steps
        ]
    output_key = "Output" if "Output" in state_definition else "OutputPath"
    return StateTest(
        state=state,
        state_type=str(state_definition.get("Type")),
        status=answer.get("status", ""),
        next_state=answer.get("nextState"),
        output=parse_json(answer["output"]) if "output" in answer else None,
        has_output="output" in answer,
        output_setting=setting_of(state_definition, output_key) or "",
        error=answer.get("error"),
        cause=answer.get("cause"),
        steps=steps,
        error_details=dict(data.get("errorDetails") or {}),
        mocked=mocked,
        note=NOT_DEPLOYED if answer.get("error") == "Lambda.ResourceNotFoundException" else None,
    )


def setting_of(state_definition: dict, key: str | None) -> str | None:
    """How the state sets `key`: a path as written, `set` for an object (its effect shows
    in the step's value), its default when it is not set; None for a step no field makes."""
    if key is None:
        return None
    if key in state_definition:
        value = state_definition[key]
        return f"{key}: {value}" if isinstance(value, str) else f"{key}: set"
    if key in DEFAULTS:
        return f"{key}: not set, so {DEFAULTS[key]}"
    return f"{key}: not set"
