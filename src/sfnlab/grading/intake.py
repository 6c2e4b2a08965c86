"""What learners hand in, as the grader takes it: folders, zips, and folders of them.

`sfnlab grade` is given solution folders, submission zips (`sfnlab submit` makes them),
or a folder of either (what a learning platform's "download all submissions" gives).
A platform's container holds one learner's files wherever its upload put them. Either
way `gather()` finds each solution: a folder with `definitions/` or `lambdas/`; inside a
zip (unpacked safely, see `archives.py`), at its top or one folder down; or, for an upload
that flattens folders, the definition and the `.py` and `.js` files side by side, put back
in place.

What cannot be taken in (a zip refused as unsafe, say) becomes a `HandedIn` with the
reason: that learner's report says so, and the rest of the class is graded.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sfnlab.deploy.step_code import CODE_SUFFIXES
from sfnlab.exercise import DEFINITION_FILE, LAMBDAS_FOLDER
from sfnlab.grading import archives
from sfnlab.grading.archives import ArchiveRefused, Limits
from sfnlab.grading.grader import SolutionReport, grade, refused_report
from sfnlab.grading.solution_files import Findings, check
from sfnlab.grading.submission import MANIFEST_NAME, differences
from sfnlab.settings import Settings

MAX_DEPTH = 2  # folders a solution may sit below the top of what was handed in
PLATFORM_FILES = {"submission_metadata.yml", "submission_metadata.json"}


@dataclass
class HandedIn:
    """One learner's hand-in: the folder to grade, or why there is none."""

    name: str
    source: Path  # what was handed in: a folder or a zip
    folder: Path | None = None  # the solution, ready to grade
    refused: str | None = None  # why it cannot be graded at all
    findings: Findings | None = None  # the checks before anything runs

    @property
    def manifest(self) -> dict | None:
        """The manifest `sfnlab submit` wrote into the zip, if there is one."""
        if self.folder is None:
            return None
        try:
            manifest = json.loads((self.folder / MANIFEST_NAME).read_text())
        except (OSError, ValueError):
            return None
        return manifest if isinstance(manifest, dict) else None


def looks_like_solution(folder: Path) -> bool:
    return any(
        (folder / part).exists()
        for part in (DEFINITION_FILE.parent, LAMBDAS_FOLDER, Path(MANIFEST_NAME))
    )


def visible_entries(folder: Path) -> list[Path]:
    """A folder's entries, less what systems and platforms add (`.DS_Store`, `__MACOSX`)."""
    return sorted(
        entry
        for entry in folder.iterdir()
        if not entry.name.startswith(".")
        and entry.name not in ("__MACOSX", *PLATFORM_FILES)
        and not archives.skipped(entry.name)
    )


def flat_upload(folder: Path) -> bool:
    """Files side by side: what an upload that keeps no folders gives."""
    names = {entry.name for entry in visible_entries(folder) if entry.is_file()}
    return DEFINITION_FILE.name in names or any(name.endswith(CODE_SUFFIXES) for name in names)


def rebuild_flat(folder: Path, target: Path) -> Path:
    """The solution's layout from files side by side: the definition in definitions/, the
    Python and JavaScript files in lambdas/ (copies: what was handed in stays as it was)."""
    (target / DEFINITION_FILE.parent).mkdir(parents=True)
    (target / LAMBDAS_FOLDER).mkdir()
    for entry in visible_entries(folder):
        if entry.is_symlink() or not entry.is_file():
            continue
        if entry.name == DEFINITION_FILE.name:
            shutil.copyfile(entry, target / DEFINITION_FILE)
        elif entry.suffix in CODE_SUFFIXES:
            shutil.copyfile(entry, target / LAMBDAS_FOLDER / entry.name)
    return target


def locate(folder: Path, workdir: Path, limits: Limits | None = None, depth: int = 0) -> Path:
    """The solution inside what a learner handed in (unpacked already, or a platform's
    submission folder): the folder itself, the one folder inside it, the one zip inside
    it, or files side by side. Raises ArchiveRefused for a zip inside that is unsafe."""
    if looks_like_solution(folder):
        return folder
    entries = visible_entries(folder)
    folders = [entry for entry in entries if entry.is_dir() and not entry.is_symlink()]
    zips = [entry for entry in entries if entry.is_file() and entry.suffix.lower() == ".zip"]
    if depth < MAX_DEPTH and len(folders) == 1 and not zips:
        return locate(folders[0], workdir, limits, depth + 1)
    if depth < MAX_DEPTH and len(zips) == 1 and not folders:
        unpacked = new_folder(workdir, zips[0].stem)
        archives.unpack(zips[0], unpacked, limits)
        return locate(unpacked, workdir, limits, depth + 1)
    if flat_upload(folder):
        return rebuild_flat(folder, new_folder(workdir, folder.name))
    return folder  # the checks say what is missing


def new_folder(workdir: Path, name: str) -> Path:
    """A folder of `workdir` not used yet, named after `name`."""
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "submission"
    candidate, number = workdir / base, 1
    while candidate.exists():
        number += 1
        candidate = workdir / f"{base}-{number}"
    return candidate


def take(
    source: Path, workdir: Path, name: str | None = None, limits: Limits | None = None
) -> HandedIn:
    """One hand-in (a folder or a zip), found, unpacked and checked."""
    handed = HandedIn(name or display_name(source), source)
    try:
        if source.is_dir():
            handed.folder = locate(source, workdir, limits)
        elif source.suffix.lower() == ".zip" or zipfile.is_zipfile(source):
            unpacked = new_folder(workdir, source.stem)
            archives.unpack(source, unpacked, limits)
            handed.folder = locate(unpacked, workdir, limits)
        else:
            handed.refused = f"{source.name} is neither a solution folder nor a zip"
    except ArchiveRefused as e:
        handed.refused = e.message
    except OSError as e:
        handed.refused = f"{source.name} could not be read ({e.strerror or e})"
    if handed.folder is not None:
        handed.findings = check(handed.folder)
        manifest = handed.manifest
        if manifest is not None:
            handed.findings.warnings += differences(handed.folder, manifest)
    return handed


def display_name(source: Path) -> str:
    return source.name[: -len(".zip")] if source.name.lower().endswith(".zip") else source.name


def is_class_folder(folder: Path) -> bool:
    """A folder of hand-ins (zips, or solution folders) rather than one solution."""
    if looks_like_solution(folder) or flat_upload(folder):
        return False
    entries = visible_entries(folder)
    return len(entries) > 1 or any(entry.suffix.lower() == ".zip" for entry in entries)


def gather(paths: list[Path], workdir: Path, limits: Limits | None = None) -> list[HandedIn]:
    """Every hand-in among `paths`: each a solution folder, a zip, or a folder of them
    (one level: what "download all submissions" gives). Names are made unique."""
    handed: list[HandedIn] = []
    for path in paths:
        if path.is_dir() and is_class_folder(path):
            members = visible_entries(path)
            handed += [
                take(member, workdir, limits=limits)
                for member in members
                if not member.is_symlink()
            ]
        else:
            handed.append(take(path, workdir, limits=limits))
    unique_names(handed)
    return handed


def unique_names(handed: list[HandedIn]) -> None:
    """Each name once: with its parent folder's where names repeat, numbered if still alike."""
    names = [h.name for h in handed]
    for h in handed:
        if names.count(h.name) > 1:
            h.name = f"{h.source.resolve().parent.name}/{h.name}"
    seen: list[str] = []
    for h in handed:
        candidate, number = h.name, 1
        while candidate in seen:
            number += 1
            candidate = f"{h.name} ({number})"
        h.name = candidate
        seen.append(candidate)


def grade_handed_in(
    handed: list[HandedIn],
    settings: Settings,
    *,
    jobs: int,
    time_limit: float,
    on_done: Callable[[SolutionReport], None] | None = None,
) -> list[SolutionReport]:
    """Grade every hand-in that could be taken, `jobs` at a time; a report for each, in the
    order given, the refused ones saying why nothing of them ran."""
    taken = [h for h in handed if h.folder is not None]
    graded = iter(
        grade(
            [h.folder for h in taken],
            settings,
            jobs=jobs,
            time_limit=time_limit,
            on_done=on_done,
            names=[h.name for h in taken],
        )
        if taken
        else []
    )
    reports = []
    for h in handed:
        if h.folder is None:
            report = refused_report(h.name, str(h.source), h.refused or "it could not be read")
            if on_done:
                on_done(report)
        else:
            report = next(graded)
            report.path = str(h.source)
            if h.findings is not None:
                report.problems = list(h.findings.problems)
                report.warnings = list(h.findings.warnings)
        reports.append(report)
    return reports
