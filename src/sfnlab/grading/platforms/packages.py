"""What the kit writes for each platform, from the templates beside this module.

- Gradescope: the autograder zip (`setup.sh`, `run_autograder`, `install-kit.sh` and the
  kit's own source in `kit/`), which Gradescope builds its image from.
- PrairieLearn: a folder with the grading image's build context (`image/`: Dockerfile,
  install script, grader script, the kit) and the question (`questions/SolveIssue/`:
  `info.json` with its external-grading block, `question.html`).
- CI: a GitHub Actions workflow and a GitLab CI file for a learner's repository.

Templates hold `{{name}}` marks; every mark must be filled (a typo fails, not ships).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import uuid
import zipfile
from importlib import resources
from pathlib import Path

from sfnlab.grading.platforms import gradescope
from sfnlab.grading.submission import kit_version
from sfnlab.settings import PROJECT_ROOT

MARK = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
# The kit's source an image installs from: what `scripts/kit-env.sh` and the embedded
# LocalStack's install need (the project, both locks, both plugins), and what grading
# reads (the test events the approve Lambda gets, and the refusal words the kit shares
# with the approval page's Lambda).
KIT_PATHS = (
    "pyproject.toml",
    "uv.lock",
    "README.md",
    "LICENSE",
    "src",
    "localstack-process-executor",
    "localstack-patches",
    "requirements",
    "scripts/kit-env.sh",
    "test-events",
    "lambdas/token_refusals.py",
)
SKIPPED_PARTS = {"__pycache__", ".sfnlab", ".pytest_cache", ".ruff_cache"}
EXECUTABLE = 0o755
DEFAULT_IMAGE = "sfnlab/grader"
IMAGE_INSTALL = "/opt/sfnlab"  # the Dockerfile's SFNLAB_INSTALL
PRAIRIELEARN_BUDGET = 120  # seconds the grader script allows itself ...
PRAIRIELEARN_TIMEOUT = 150  # ... inside PrairieLearn's own limit (info.json)
GRADESCOPE_BUDGET = 300  # Gradescope allows 10 minutes unless the instructor says less
QUESTION = "SolveIssue"


class TemplateError(ValueError):
    """A template mark with no value, or a value for no mark."""


def template(name: str, **values: object) -> str:
    """The template `name` with each `{{mark}}` replaced by its value."""
    text = (resources.files("sfnlab.grading.platforms") / "templates" / name).read_text()
    used = set(MARK.findall(text))
    if used != set(values):
        raise TemplateError(f"{name}: marks {sorted(used)}, values {sorted(values)}")
    return MARK.sub(lambda match: str(values[match.group(1)]), text)


def kit_files(root: Path = PROJECT_ROOT) -> list[Path]:
    """The kit's source files an image installs from, relative to the kit's folder."""
    found: list[Path] = []
    for entry in KIT_PATHS:
        path = root / entry
        if path.is_file():
            found.append(Path(entry))
            continue
        for folder, folders, files in os.walk(path):
            folders[:] = sorted(
                name
                for name in folders
                if name not in SKIPPED_PARTS and not name.endswith(".egg-info")
            )
            found += [Path(folder, name).relative_to(root) for name in sorted(files)]
    return found


def copy_kit(target: Path, root: Path = PROJECT_ROOT) -> int:
    """Copy the kit's source into `target`; how many files."""
    files = kit_files(root)
    for relative in files:
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, destination)
    return len(files)


def zip_entry(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool) -> None:
    info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
    info.external_attr = ((EXECUTABLE if executable else 0o644) | stat.S_IFREG) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def gradescope_zip(
    output: Path,
    *,
    visibility: str = gradescope.DEFAULT_VISIBILITY,
    time_budget: int = GRADESCOPE_BUDGET,
    root: Path = PROJECT_ROOT,
) -> Path:
    """The autograder zip Gradescope asks for: setup.sh and run_autograder at its top."""
    if visibility not in gradescope.VISIBILITIES:
        raise ValueError(f"visibility is one of {', '.join(gradescope.VISIBILITIES)}")
    version = kit_version()
    scripts = {
        "setup.sh": template("setup.sh", kit_version=version),
        "run_autograder": template(
            "run_autograder", kit_version=version, visibility=visibility, time_budget=time_budget
        ),
        "install-kit.sh": template("install-kit.sh"),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partial")
    with zipfile.ZipFile(partial, "w") as archive:
        for name, text in scripts.items():
            zip_entry(archive, name, text.encode(), executable=True)
        for relative in kit_files(root):
            source = root / relative
            executable = bool(source.stat().st_mode & 0o100)
            zip_entry(archive, f"kit/{relative.as_posix()}", source.read_bytes(), executable)
    partial.replace(output)
    return output


def prairielearn_folder(
    output: Path,
    *,
    image: str = DEFAULT_IMAGE,
    timeout: int = PRAIRIELEARN_TIMEOUT,
    root: Path = PROJECT_ROOT,
) -> list[Path]:
    """The image's build context and the question, in `output`; the files written (the
    kit's own source aside). The question keeps its uuid when written again."""
    budget = max(30, min(PRAIRIELEARN_BUDGET, timeout - 30))
    image_dir = output / "image"
    if image_dir.exists():
        shutil.rmtree(image_dir / "kit", ignore_errors=True)
    version = kit_version()
    written = {
        image_dir / "Dockerfile": template("Dockerfile", kit_version=version, image=image),
        image_dir / "install-kit.sh": template("install-kit.sh"),
        image_dir / "grade": template("grade", kit_version=version, time_budget=budget),
    }
    question = output / "questions" / QUESTION
    written[question / "info.json"] = template(
        "info.json",
        uuid=existing_uuid(question / "info.json") or uuid.uuid4(),
        image=image,
        entrypoint=f"{IMAGE_INSTALL}/grade",
        timeout=timeout,
    )
    written[question / "question.html"] = template("question.html")
    for path, text in written.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if path.name in ("install-kit.sh", "grade"):
            path.chmod(EXECUTABLE)
    copy_kit(image_dir / "kit", root)
    return sorted(written)


def existing_uuid(info: Path) -> str | None:
    found = re.search(r'"uuid":\s*"([0-9a-f-]{36})"', info.read_text()) if info.exists() else None
    return found.group(1) if found else None


def ci_files(
    output: Path,
    *,
    kit_repository: str,
    kit_ref: str,
    min_score: int,
) -> list[Path]:
    """A GitHub Actions workflow and a GitLab CI file, where each system looks for them
    in a repository whose root is `output`."""
    values = dict(
        kit_version=kit_version(),
        kit_repository=kit_repository,
        kit_ref=kit_ref,
        min_score=min_score,
    )
    written = {
        output / ".github" / "workflows" / "sfnlab-grade.yml": template(
            "github-workflow.yml", **values
        ),
        output / ".gitlab-ci.yml": template("gitlab-ci.yml", **values),
    }
    for path, text in written.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return sorted(written)


def origin_url(root: Path = PROJECT_ROOT) -> str:
    """The URL the kit was cloned from (git's `origin`), for CI to clone it again."""
    import subprocess

    from sfnlab.errors import LearnerError

    try:
        found = subprocess.run(
            ["git", "-C", str(root), "remote", "get-url", "origin"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except OSError:
        found = None
    if found is None or found.returncode != 0 or not found.stdout.strip():
        raise LearnerError(
            "This kit has no git remote `origin` for CI to clone it from.",
            hint="Pass --kit-repository with the URL of the kit's repository.",
        )
    return found.stdout.strip()
