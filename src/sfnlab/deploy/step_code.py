"""Which file of a Lambdas folder holds each step's handler, and so in which language.

A solution's `lambdas/` folder may mix languages step by step: each step's handler file is
either the Python one (`create_code.py`, defining `lambda_handler`) or the JavaScript one
(`createCode.js`, or `.mjs` for an ES module, exporting `handler`), and that file's
language is the step's. A step with both is refused, as is a step with neither; for the
grader, who runs a solution however broken, such a step still gets a function, whose
invocations fail as the missing file makes them fail.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sfnlab.exercise import APPROVE, LAMBDAS_FOLDER, LANGUAGES, PYTHON, STEPS, Language, Step

# What a function's zip carries of the folder: handlers and the helpers they share.
CODE_SUFFIXES = tuple(suffix for language in LANGUAGES.values() for suffix in language.suffixes)


@dataclass(frozen=True)
class StepCode:
    """One step's handler: its file (a name in the folder) and the language it is in."""

    step: Step
    language: Language
    file: str
    present: bool = True  # False: no file, the name it would have

    @property
    def handler(self) -> str:
        return self.language.handler_setting(self.step)

    @property
    def runtime(self) -> str:
        return self.language.runtime


@dataclass
class StepFiles:
    """Every step's handler in a folder, and what is wrong with the folder, if anything."""

    code: dict[str, StepCode] = field(default_factory=dict)  # by step key
    problems: list[str] = field(default_factory=list)

    def of(self, step: Step) -> StepCode:
        return self.code[step.key]

    @property
    def languages(self) -> set[str]:
        return {code.language.title for code in self.code.values() if code.present}


def code_files(folder: Path) -> list[Path]:
    """The files a function's zip carries: every handler and helper in `folder`."""
    return sorted(
        path for path in folder.iterdir() if path.suffix in CODE_SUFFIXES and path.is_file()
    )


def candidates(step: Step) -> list[tuple[Language, str]]:
    """Every file name that would hold `step`'s handler, Python's first."""
    return [
        (language, language.stem(step) + suffix)
        for language in LANGUAGES.values()
        for suffix in language.suffixes
    ]


def read_step_files(folder: Path, shown: Path = LAMBDAS_FOLDER) -> StepFiles:
    """Each step's handler file in `folder` (named as `shown/<file>` in problems).

    A step with no file gets the name it would have in the language the folder's other
    steps are written in (Python when they mix, or there are none).
    """
    names = set(os.listdir(folder)) if folder.is_dir() else set()
    steps = [*STEPS, APPROVE]
    found = {
        step.key: [(language, name) for language, name in candidates(step) if name in names]
        for step in steps
    }
    used = list(dict.fromkeys(files[0][0] for files in found.values() if files))
    guessed = used[0] if len(used) == 1 else PYTHON
    files = StepFiles()
    for step in steps:
        if not found[step.key]:
            files.code[step.key] = StepCode(step, guessed, guessed.file_name(step), present=False)
            named = " or ".join(
                str(shown / language.file_name(step))
                for language in ([guessed] if len(used) == 1 else LANGUAGES.values())
            )
            files.problems.append(f"{named} is missing")
            continue
        language, name = found[step.key][0]
        files.code[step.key] = StepCode(step, language, name)
        if len(found[step.key]) > 1:
            both = " and ".join(str(shown / other) for _, other in found[step.key])
            files.problems.append(
                f"{both} are all there: each step has one handler file, in one language "
                f"(the grader would run {shown / name}); remove the others"
                if len(found[step.key]) > 2
                else f"{both} are both there: each step has one handler file, in one "
                f"language (the grader would run {shown / name}); remove the other"
            )
    return files
