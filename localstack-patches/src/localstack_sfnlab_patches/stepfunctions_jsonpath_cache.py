"""Step Functions parses each JSONPath once, not on every evaluation.

LocalStack 4.14 evaluates `InputPath`, `Parameters` (`"x.$": "$.y"`), `ResultPath`,
`OutputPath` and Choice rules by parsing the path text anew each time, and jsonpath-ng
builds its whole LALR parser for every parse. Under a class's load (100 executions of
the exercise at once) that was about a sixth of LocalStack's time. A parsed path is not
changed by evaluating it, so the parsed form of each path text is kept and reused;
what an expression selects or updates is unchanged.
"""

from __future__ import annotations

import functools

from localstack.services.stepfunctions.asl.component.common.path import result_path
from localstack.services.stepfunctions.asl.utils import json_path

# Distinct path texts: those of the deployed definitions, a few hundred at most.
CACHE_SIZE = 4096


def apply() -> None:
    for module in (json_path, result_path):
        module.parse = functools.lru_cache(maxsize=CACHE_SIZE)(module.parse)
