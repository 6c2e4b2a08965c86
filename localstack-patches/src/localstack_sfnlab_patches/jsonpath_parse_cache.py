"""Step Functions parses each JSONPath expression once, not every time a state runs.

LocalStack 4.14.0 parses a state's JSONPath expressions (`InputPath`, `"key.$": "$.a"`,
`$$.Task.Token`, a Choice's `Variable`, `ResultPath`, ...) every time the state runs,
with jsonpath-ng, whose every parse builds its LALR tables afresh: tens of milliseconds
per expression, the largest single cost of an execution.

This keeps the parsed expression of each text, MAX_EXPRESSIONS of them at most, the
least recently used dropped first. Nothing else changes: a parsed jsonpath-ng expression
is never modified after parsing (finding and updating change the data, not the
expression), so one parsed expression serves any number of executions and threads at
once, and the same text always parses to the same expression, so every result is the
one a fresh parse gives. An expression that does not parse raises as before, every time:
failures are not kept.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import ModuleType
from typing import Any

from localstack_sfnlab_patches.import_hooks import when_imported

MAX_EXPRESSIONS = 2048  # a few hundred bytes each; a class of workflows uses a few dozen
# The modules of Step Functions that parse JSONPath, each with the parser it imports as
# `parse`: jsonpath-ng's extended one (filters, arithmetic) for reading, its plain one
# for ResultPath.
PARSING_MODULES = (
    "localstack.services.stepfunctions.asl.utils.json_path",
    "localstack.services.stepfunctions.asl.component.common.path.result_path",
)


def cached(parse: Callable[..., Any], size: int = MAX_EXPRESSIONS) -> Callable[..., Any]:
    """`parse` with its results kept per expression text (thread-safe, bounded, LRU)."""
    remembered = functools.lru_cache(maxsize=size)(parse)

    @functools.wraps(parse)
    def parse_once(path: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs or not isinstance(path, str):  # debug=True, say: as before
            return parse(path, *args, **kwargs)
        return remembered(path)

    parse_once.cache_info = remembered.cache_info  # type: ignore[attr-defined]
    return parse_once


def patch_module(module: ModuleType) -> None:
    from localstack.utils.patch import Patch

    Patch(module, "parse", cached(module.parse)).apply()


def apply() -> None:
    for name in PARSING_MODULES:
        when_imported(name, patch_module)
