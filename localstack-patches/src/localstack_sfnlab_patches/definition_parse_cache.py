"""Step Functions parses each state machine definition once, not for every check and run.

LocalStack 4.14.0 parses a definition's text with its ANTLR grammar again for every use:
to validate it (ValidateStateMachineDefinition), twice to create a state machine (its
checks, then its usage counters), and once more for every execution it starts. The
ANTLR runtime for Python is slow: each parse of a workflow like the exercise's costs tens
of milliseconds.

This keeps the parse tree of each definition text, MAX_DEFINITIONS of them at most, the
least recently used dropped first, and builds every use's evaluation program from it
afresh, with LocalStack's own preprocessor, as its parse does: each execution still gets
a program of its own. Nothing else changes: the same text gives the same tree, which
nothing modifies once it is parsed (the checks and the preprocessor only read it), so
every check and every execution sees what a fresh parse gives. A definition that does
not parse raises as before, every time: failures are not kept. TestState, which parses
one state of a definition, is left alone.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from localstack_sfnlab_patches.import_hooks import when_imported

ASL_PARSER = "localstack.services.stepfunctions.asl.parse.asl_parser"
# A tree takes a few hundred kilobytes; a class being graded uses two definitions per
# solution, a few solutions at a time.
MAX_DEFINITIONS = 32


class ParseTrees:
    """Parse trees by definition text: bounded, least recently used out first, thread-safe."""

    def __init__(self, size: int = MAX_DEFINITIONS) -> None:
        self.size = size
        self._trees: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, definition: str) -> Any:
        with self._lock:
            tree = self._trees.get(definition)
            if tree is not None:
                self._trees.move_to_end(definition)
            return tree

    def put(self, definition: str, tree: Any) -> None:
        with self._lock:
            self._trees[definition] = tree
            self._trees.move_to_end(definition)
            while len(self._trees) > self.size:
                self._trees.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._trees)


TREES = ParseTrees()


def patch_parser(module: Any) -> None:
    from localstack.services.stepfunctions.asl.parse.preprocessor import Preprocessor
    from localstack.utils.patch import Patch, create_patch_proxy

    parser = module.AmazonStateLanguageParser

    def parse_once(original: Any, definition: Any) -> tuple[Any, Any]:
        if not isinstance(definition, str):
            return original(definition)
        tree = TREES.get(definition)
        if tree is None:
            program, tree = original(definition)  # raises for a broken definition
            TREES.put(definition, tree)
            return program, tree
        return Preprocessor().visit(tree), tree

    # A static method: the patch must stay one, or `AmazonStateLanguageParser.parse(...)`
    # would pass the class as the definition.
    patch = Patch(parser, "parse", staticmethod(create_patch_proxy(parser.parse, parse_once)))
    patch.old = parser.__dict__["parse"]
    patch.apply()


def apply() -> None:
    when_imported(ASL_PARSER, patch_parser)
