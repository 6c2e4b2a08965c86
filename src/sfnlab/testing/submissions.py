"""The submissions the grader is tested on (and the grading benchmark grades): folders
under `tests/integration/grading/submissions/`, each a change to the kit's own solution
(its files replace the kit's; `expected.json` lists files to remove, and files to make
links to elsewhere), with `expected.json` saying which requirements it must fail, and why.

Hostile submissions name what they attack with placeholders, filled in when the class is
assembled: @@HOME@@ (the instructor's home, a fake one), @@CLASSMATE@@ (another learner's
folder) and @@KIT@@ (the kit itself).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from sfnlab.settings import PROJECT_ROOT

SUBMISSIONS = PROJECT_ROOT / "tests" / "integration" / "grading" / "submissions"
CLASSMATE = "correct-classmate"
REFERENCE_JS = "reference-js"  # the kit's own solution with its JavaScript Lambdas
STARTER_JS = "starter-js"


@dataclass(frozen=True)
class Submission:
    name: str
    about: str
    fails: frozenset[str]
    feedback: dict[str, str]  # requirement id -> text its feedback must contain
    remove: tuple[str, ...]
    links: dict[str, str]  # file -> where it links to (placeholders filled in)

    @property
    def source(self) -> Path:
        return SUBMISSIONS / self.name


def load_all() -> list[Submission]:
    found = []
    for folder in sorted(path for path in SUBMISSIONS.iterdir() if path.is_dir()):
        expected = json.loads((folder / "expected.json").read_text())
        found.append(
            Submission(
                folder.name,
                expected["about"],
                frozenset(expected["fails"]),
                expected.get("feedback", {}),
                tuple(expected.get("remove", [])),
                expected.get("links", {}),
            )
        )
    return found


def assemble(
    submission: Submission | None,
    root: Path,
    placeholders: dict[str, str],
    name: str | None = None,
) -> Path:
    """The learner's folder (`root/<name>`, the submission's name by default): the kit's
    solution with the submission's changes (none: the kit's solution as it is)."""
    folder = root / (name or submission.name)
    shutil.copytree(PROJECT_ROOT / "definitions", folder / "definitions")
    shutil.copytree(PROJECT_ROOT / "lambdas", folder / "lambdas")
    if submission is None:
        return folder
    for path in submission.source.rglob("*"):
        if path.is_file() and path.name != "expected.json":
            target = folder / path.relative_to(submission.source)
            target.parent.mkdir(parents=True, exist_ok=True)
            data = path.read_bytes()
            for mark, value in placeholders.items():
                data = data.replace(mark.encode(), value.encode())
            target.write_bytes(data)
    for relative in submission.remove:
        (folder / relative).unlink()
    for relative, target in submission.links.items():
        for mark, value in placeholders.items():
            target = target.replace(mark, value)
        (folder / relative).unlink(missing_ok=True)
        (folder / relative).symlink_to(target)
    return folder


def assemble_javascript_reference(root: Path) -> Path:
    """The kit's own definition with its JavaScript Lambdas (lambdas-js/) as lambdas/."""
    folder = root / REFERENCE_JS
    shutil.copytree(PROJECT_ROOT / "definitions", folder / "definitions")
    shutil.copytree(PROJECT_ROOT / "lambdas-js", folder / "lambdas")
    return folder
