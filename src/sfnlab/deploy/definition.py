"""The state machine's definition: a template with `${...}` placeholders, made concrete,
and checked as Step Functions checks it.

A value that is exactly `"${Name}"` becomes the value given for Name with its own type
(a number stays a number), `${Name}` inside a longer string is replaced as text, and a
placeholder given None drops its key. A placeholder may also stand bare where a number
goes (`"TimeoutSeconds": ${ReviewTimeoutSeconds}`): that is how the exercise's
definition writes its two numbers, because CloudFormation's DefinitionSubstitutions
replace text, so only a bare placeholder becomes a number there too (and `template.yaml`
deploys the very same file). `load_template` reads a bare placeholder as its quoted
form. The exercise's placeholders are each step's function ARN and the review's two
times (`placeholder_values`); `render_definition` fills them in, for every caller.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sfnlab.errors import DefinitionError, LearnerError
from sfnlab.exercise import DEFINITION_FILE, MAX_REVIEW_SECONDS

PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
# A JSON string (kept whole), or a placeholder outside any string (group 1: its name).
_STRING_OR_BARE_PLACEHOLDER = re.compile(r'"(?:[^"\\]|\\.)*"|\$\{([A-Za-z0-9_]+)\}')
_DROP = object()


def load_template(path: Path) -> Any:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as e:
        raise DefinitionError(
            f"Cannot read the state machine definition {path}: {e.strerror or e}."
        ) from None
    except UnicodeDecodeError as e:
        raise DefinitionError(
            f"{path} is not UTF-8 text (byte {e.start} cannot be read as UTF-8; a file saved "
            "as UTF-16 looks like this).",
            hint="Save it as UTF-8, then try again.",
        ) from None
    try:
        return parse_template(text)
    except json.JSONDecodeError as e:
        raise DefinitionError(
            f"{path} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}.",
            hint="Fix the JSON (a missing comma or quote, most often), then deploy again.",
        ) from None


def parse_template(text: str) -> Any:
    """A definition template's text as JSON, each bare `${Name}` read as `"${Name}"`.

    A JSON error's line and column are those of `text` itself.
    """
    ends: list[int] = []  # where each quoted placeholder ends, in the text parsed

    def quote(match: re.Match) -> str:
        if match.group(1) is None:
            return match.group(0)  # a string: a placeholder inside it is text
        ends.append(match.end() + 2 * (len(ends) + 1))
        return f'"{match.group(0)}"'

    try:
        return json.loads(_STRING_OR_BARE_PLACEHOLDER.sub(quote, text))
    except json.JSONDecodeError as e:
        moved = 2 * sum(1 for end in ends if end <= e.pos)  # two quotes added by each
        raise json.JSONDecodeError(e.msg, text, e.pos - moved) from None


def placeholders(template: Any) -> set[str]:
    """Every placeholder name the template uses."""
    return set(PLACEHOLDER.findall(json.dumps(template)))


def render(template: Any, values: Mapping[str, Any], source: str = "the definition") -> Any:
    unknown = placeholders(template) - set(values)
    if unknown:
        raise DefinitionError(
            f"{source} uses {', '.join('${' + name + '}' for name in sorted(unknown))}, "
            "which deploy does not fill in.",
            hint=f"The placeholders it knows: {', '.join(sorted(values))}.",
        )
    return _render(template, values)


def placeholder_values(
    function_arns: Mapping[str, str], review_timeout: int, review_heartbeat: int | None
) -> dict[str, Any]:
    """What the exercise's placeholders stand for: `${<step key>FunctionArn}` for each
    step's function (`function_arns` by step key), and the review's timeout and heartbeat
    (a heartbeat of None drops `HeartbeatSeconds`)."""
    values: dict[str, Any] = {f"{key}FunctionArn": arn for key, arn in function_arns.items()}
    values["ReviewTimeoutSeconds"] = review_timeout
    values["ReviewHeartbeatSeconds"] = review_heartbeat
    return values


def render_definition(
    template: Any,
    function_arns: Mapping[str, str],
    review_timeout: int,
    review_heartbeat: int | None,
    source: str = str(DEFINITION_FILE),
) -> Any:
    """The exercise's definition template made concrete (see `placeholder_values`)."""
    values = placeholder_values(function_arns, review_timeout, review_heartbeat)
    return render(template, values, source)


def check_review_seconds(review_timeout: int, review_heartbeat: int | None) -> None:
    """Refuse review times Step Functions would refuse, before anything is changed: the
    learner's number is the mistake, not the definition it is written into."""
    for what, seconds in (
        ("review timeout", review_timeout),
        ("review heartbeat", review_heartbeat),
    ):
        if seconds is None:
            continue
        if isinstance(seconds, bool) or not isinstance(seconds, int):
            raise LearnerError(f"The {what} must be a whole number of seconds, not {seconds!r}.")
        if not 1 <= seconds <= MAX_REVIEW_SECONDS:
            raise LearnerError(
                f"The {what} must be from 1 to {MAX_REVIEW_SECONDS} seconds "
                f"(Step Functions' limit); {seconds} is not.",
                hint="For a review without heartbeats, give none (`--review-heartbeat 0`, "
                "or review_heartbeat=None)."
                if what == "review heartbeat"
                else "",
            )
    if review_heartbeat is not None and review_heartbeat >= review_timeout:
        raise LearnerError(
            f"The review heartbeat ({review_heartbeat} s) must be shorter than the review "
            f"timeout ({review_timeout} s)."
        )


def definition_text(definition: Any) -> str:
    """A definition as deploy sends it to Step Functions (validate that same text, and
    LocalStack parses it once: the kit's patches keep each text's parse)."""
    return json.dumps(definition, indent=2)


def validate(sfn: Any, text: str, source: str = str(DEFINITION_FILE)) -> None:
    """Have Step Functions validate the definition; one paragraph naming every problem."""
    result = sfn.validate_state_machine_definition(definition=text, type="STANDARD")
    own = structural_problems(json.loads(text))
    # Step Functions reports missing targets and unreachable states too: when the kit
    # found them, its own words (which name the state and field) say each once.
    diagnostics = [
        d
        for d in result.get("diagnostics", [])
        if not (own and d.get("code") == "MISSING_TRANSITION_TARGET")
    ]
    theirs = [
        d["message"].rstrip(". ") + (f" at {d['location']}" if d.get("location") else "")
        for d in diagnostics
    ]
    problems = "; ".join(problem.rstrip(". ") for problem in theirs + own)
    if problems:
        hint = "Fix the definition, then deploy again."
        if any("of type Boolean" in d["message"] for d in diagnostics):
            hint = 'A boolean is true or false without quotes ("BooleanEquals": true). ' + hint
        raise DefinitionError(f"Step Functions rejects {source}: {problems}.", hint=hint)


def _render(node: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(node, dict):
        rendered = {key: _render(value, values) for key, value in node.items()}
        return {key: value for key, value in rendered.items() if value is not _DROP}
    if isinstance(node, list):
        return [_render(item, values) for item in node]
    if isinstance(node, str):
        whole = PLACEHOLDER.fullmatch(node)
        if whole:
            value = values[whole.group(1)]
            return _DROP if value is None else value
        return PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), node)
    return node


def transitions(state: dict) -> list[tuple[str, Any]]:
    """(where, target) for every transition out of a state."""
    found = [(key, state[key]) for key in ("Next", "Default") if key in state]
    for number, choice in enumerate(state.get("Choices") or [], 1):
        if isinstance(choice, dict) and "Next" in choice:
            found.append((f"Choices[{number}].Next", choice["Next"]))
    for number, catcher in enumerate(state.get("Catch") or [], 1):
        if isinstance(catcher, dict) and "Next" in catcher:
            found.append((f"Catch[{number}].Next", catcher["Next"]))
    return found


def structural_problems(definition: Any, where: str = "") -> list[str]:
    """What AWS rejects about a definition's states and transitions (LocalStack 4.14 does not).

    A missing StartAt or transition target, a state with neither Next nor End, a state
    nothing leads to; Parallel branches and Map processors are checked the same way.
    """
    if not isinstance(definition, dict):
        return [f"{where}the definition is not a JSON object"]
    states = definition.get("States")
    if not isinstance(states, dict) or not states:
        return [f"{where}there are no States"]
    problems = []
    start = definition.get("StartAt")
    if start not in states:
        problems.append(f"{where}StartAt names {start!r}, which is not a state")
    for name, state in states.items():
        if not isinstance(state, dict):
            problems.append(f"{where}{name} is not a JSON object")
            continue
        for label, target in transitions(state):
            if target not in states:
                problems.append(f"{where}{name}: {label} names {target!r}, which is not a state")
        flows_on = state.get("Type") in ("Task", "Pass", "Wait", "Parallel", "Map")
        if flows_on and "Next" not in state and state.get("End") is not True:
            problems.append(f"{where}{name} has neither Next nor End")
        for number, branch in enumerate(state.get("Branches") or [], 1):
            problems += structural_problems(branch, f"{where}{name} branch {number}: ")
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                problems += structural_problems(state[key], f"{where}{name}: ")
    reachable, queue = set(), [start] if start in states else []
    while queue:
        name = queue.pop()
        if name in reachable or name not in states or not isinstance(states[name], dict):
            continue
        reachable.add(name)
        queue.extend(target for _, target in transitions(states[name]))
    if start in states:
        problems += [
            f"{where}{name} cannot be reached from {start}"
            for name in states
            if name not in reachable
        ]
    return problems
