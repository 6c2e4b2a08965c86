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

from sfnlab.errors import KitError

PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
_DROP = object()


class DefinitionError(KitError):
    """The definition file is missing, is not JSON, or names unknown placeholders."""


def load_template(path: Path) -> Any:
    try:
        text = path.read_text()
    except OSError as e:
        raise DefinitionError(f"Cannot read the state machine definition {path}: {e}.") from None
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
