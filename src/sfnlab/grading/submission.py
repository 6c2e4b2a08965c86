"""`sfnlab submit`: a learner's solution, checked as the grader will take it, in one zip.

The zip holds what the grader reads (the definition and the Python and JavaScript files of
`lambdas/`, in their folders) and a manifest, `sfnlab-submission.json`: the kit's version,
when it was made, and each file's SHA-256 and size (docs/reference/submission.md).
Nothing is written when the checks find a problem the grader could not get past; the
learner reads what is missing instead.
The grader takes the zip as it is (`sfnlab grade submission.zip`), and checks the files
against the manifest.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from sfnlab.errors import LearnerError
from sfnlab.grading.solution_files import Findings, check, size_text

MANIFEST_NAME = "sfnlab-submission.json"
MANIFEST_FORMAT = "sfnlab-submission/1"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the files' dates in the zip: the manifest has the time
DEFAULT_NAME = "submission.zip"


class SubmissionIncomplete(LearnerError):
    """The solution cannot be handed in as it is: the message lists what is missing."""


@dataclass
class Submitted:
    zip_path: Path
    manifest: dict
    findings: Findings

    @property
    def size(self) -> int:
        return self.zip_path.stat().st_size


def kit_version() -> str:
    try:
        return metadata.version("sfn-approval-lab")
    except metadata.PackageNotFoundError:  # run from a source folder never installed
        return "unknown"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_for(folder: Path, files: list[Path], created: datetime | None = None) -> dict:
    created = created or datetime.now(timezone.utc)
    return {
        "format": MANIFEST_FORMAT,
        "kit_version": kit_version(),
        "created": created.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "files": [
            {
                "path": path.as_posix(),
                "sha256": sha256(folder / path),
                "bytes": (folder / path).stat().st_size,
            }
            for path in files
        ],
    }


def submit(folder: Path, output: Path) -> Submitted:
    """Check `folder` as the grader will; if it can be graded, write it to the zip `output`.

    Raises SubmissionIncomplete, listing every problem (and what would cost points), when
    it cannot; an earlier zip at `output` is then left as it was.
    """
    findings = check(folder)
    if findings.problems:
        lines = [f"- {problem}" for problem in findings.problems]
        lines += [f"- (it would also cost points) {warning}" for warning in findings.warnings]
        raise SubmissionIncomplete(
            f"{folder} cannot be handed in yet: the grader could not run it as it is.\n"
            + "\n".join(lines)
            + "\nFix these, then run `sfnlab submit` again."
        )
    if output.is_dir():
        raise LearnerError(f"{output} is a folder; name the zip to write, e.g. {output / 'x.zip'}.")
    manifest = manifest_for(folder, findings.files)
    output.parent.mkdir(parents=True, exist_ok=True)
    # Written beside its place and moved there whole: an interrupted run leaves no half zip.
    handle, temporary = tempfile.mkstemp(prefix=".submission-", suffix=".zip", dir=output.parent)
    os.close(handle)
    try:
        write_zip(Path(temporary), folder, findings.files, manifest)
        os.replace(temporary, output)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return Submitted(output, manifest, findings)


def write_zip(path: Path, folder: Path, files: list[Path], manifest: dict) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        entries = [(MANIFEST_NAME, (json.dumps(manifest, indent=2) + "\n").encode())]
        entries += [(relative.as_posix(), (folder / relative).read_bytes()) for relative in files]
        for name, data in entries:
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)


def differences(folder: Path, manifest: dict) -> list[str]:
    """How the files of an unpacked submission differ from its manifest (nothing: empty)."""
    found = []
    listed = manifest.get("files") if isinstance(manifest.get("files"), list) else []
    for entry in listed:
        if not isinstance(entry, dict):
            continue
        path = folder / str(entry.get("path", ""))
        if not path.resolve().is_relative_to(folder.resolve()):
            found.append(f"the manifest lists {entry.get('path')!r}, outside the submission")
        elif not path.is_file():
            found.append(f"{entry.get('path')} is listed in the manifest but missing")
        elif sha256(path) != entry.get("sha256"):
            found.append(f"{entry.get('path')} was changed after `sfnlab submit` made the zip")
    return found


def summary(submitted: Submitted) -> list[str]:
    """What the learner reads once the zip is written: where it is, what to do with it."""
    count = len(submitted.findings.files)
    lines = [f"warning: {warning}" for warning in submitted.findings.warnings]
    if submitted.findings.left_out:
        shown = ", ".join(str(p) for p in submitted.findings.left_out[:5])
        more = len(submitted.findings.left_out) - 5
        lines.append(
            f"Left out (the grader does not read them): {shown}"
            + (f" and {more} more" if more > 0 else "")
        )
    lines.append(
        f"Wrote {submitted.zip_path} ({count} files and a manifest, {size_text(submitted.size)})."
    )
    lines.append(
        "Hand in that one file where your instructor collects the exercise (Gradescope, "
        "PrairieLearn, the course page). To see what the grader makes of it first: "
        f"`sfnlab grade {submitted.zip_path}`."
    )
    return lines
