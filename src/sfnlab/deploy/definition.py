"""The state machine's definition: a template with `${...}` placeholders, made concrete.

The template stays valid JSON: a value that is exactly `"${Name}"` becomes the value
given for Name with its own type (a number stays a number), `${Name}` inside a longer
string is replaced as text, and a placeholder given None drops its key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sfnlab.errors import DefinitionError

PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
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
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise DefinitionError(
            f"{path} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}.",
            hint="Fix the JSON (a missing comma or quote, most often), then deploy again.",
        ) from None


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
