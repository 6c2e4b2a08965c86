"""The JSONata functions Step Functions adds: $partition, $range, $hash, $random, $uuid, $parse.

They stand in for the JSONPath intrinsics (States.ArrayPartition, States.ArrayRange,
States.Hash, States.MathRandom, States.UUID, States.StringToJson) and keep their limits:
integer arguments, a chunk size and a step that are not zero, at most 1000 items from
$range, the five hash algorithms. A misuse raises `StepFunctionsFunctionError`, which
fails the state with States.QueryEvaluationError.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from typing import Any

from jsonata import Jsonata
from jsonata.utils import Utils

RANGE_LIMIT = 1000
HASH_ALGORITHMS = {
    "MD5": hashlib.md5,
    "SHA-1": hashlib.sha1,
    "SHA-256": hashlib.sha256,
    "SHA-384": hashlib.sha384,
    "SHA-512": hashlib.sha512,
}
_MISSING: Any = object()


class StepFunctionsFunctionError(Exception):
    """A Step Functions JSONata function was called with arguments it does not accept."""


def _integer(function: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise StepFunctionsFunctionError(
            f"{function}: the {name} must be an integer, got {_shown(value)}"
        )
    return int(value)


def _shown(value: Any) -> str:
    if value is _MISSING:
        return "nothing"
    if value is Utils.NULL_VALUE:
        return "null"
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return type(value).__name__


def partition(array: Any = _MISSING, chunk_size: Any = _MISSING) -> list:
    if not isinstance(array, list):
        raise StepFunctionsFunctionError(
            f"$partition: the array must be an array, got {_shown(array)}"
        )
    size = _integer("$partition", "chunk size", chunk_size)
    if size <= 0:
        raise StepFunctionsFunctionError(f"$partition: the chunk size must be positive, got {size}")
    # Plain lists: a single chunk stays an array of one array, as on AWS ([[0]]).
    return [list(array[start : start + size]) for start in range(0, len(array), size)]


def range_(first: Any = _MISSING, last: Any = _MISSING, step: Any = _MISSING) -> Any:
    start = _integer("$range", "start", first)
    end = _integer("$range", "end", last)
    increment = _integer("$range", "step", step)
    if increment == 0:
        raise StepFunctionsFunctionError("$range: the step must not be 0")
    count = max(0, (end - start) // increment + 1)
    if count > RANGE_LIMIT:
        raise StepFunctionsFunctionError(
            f"$range: the result would have {count} items, more than the {RANGE_LIMIT} allowed"
        )
    if count == 0:
        return []
    # A JSONata sequence, as on AWS: a range of one item is that item ($range(1, 9, 9) is 1).
    values = Utils.create_sequence()
    values.extend(start + index * increment for index in range(count))
    return values


def hash_(value: Any = _MISSING, algorithm: Any = _MISSING) -> str:
    if not isinstance(value, str):
        raise StepFunctionsFunctionError(f"$hash: the value must be a string, got {_shown(value)}")
    if algorithm not in HASH_ALGORITHMS:
        names = ", ".join(HASH_ALGORITHMS)
        raise StepFunctionsFunctionError(
            f"$hash: the algorithm must be one of {names}, got {_shown(algorithm)}"
        )
    return HASH_ALGORITHMS[algorithm](value.encode()).hexdigest()


def random_(seed: Any = _MISSING) -> float:
    if seed is _MISSING:
        return random.random()
    # The same seed gives the same number, in [0, 1).
    return random.Random(_integer("$random", "seed", seed)).random()


def uuid_() -> str:
    return str(uuid.uuid4())


def parse(text: Any = _MISSING) -> Any:
    if not isinstance(text, str):
        raise StepFunctionsFunctionError(f"$parse: the value must be a string, got {_shown(text)}")
    try:
        value = json.loads(text)
    except ValueError as error:
        raise StepFunctionsFunctionError(f"$parse: {_shown(text)} is not JSON ({error})") from None
    return Utils.NULL_VALUE if value is None else value


FUNCTIONS: dict[str, Any] = {
    "partition": Jsonata.JLambda(partition),
    "range": Jsonata.JLambda(range_),
    "hash": Jsonata.JLambda(hash_),
    "random": Jsonata.JLambda(random_),
    "uuid": Jsonata.JLambda(uuid_),
    "parse": Jsonata.JLambda(parse),
}
