"""A submission's results in a grading platform's own format, each file written whole."""

from __future__ import annotations

from pathlib import Path

from sfnlab.grading.grader import SolutionReport
from sfnlab.grading.platforms import gradescope, prairielearn
from sfnlab.grading.reports import unique_stems, write_json

PLATFORM_FORMATS = ("gradescope", "prairielearn")


def platform_results(report: SolutionReport, platform: str, visibility: str = "visible") -> dict:
    """One submission's results in a platform's own format (see `platforms/`)."""
    if platform == "gradescope":
        return gradescope.results(report, visibility)
    if platform == "prairielearn":
        return prairielearn.results(report)
    raise ValueError(f"no platform format {platform!r}; there are {', '.join(PLATFORM_FORMATS)}")


def write_platform_results(
    reports: list[SolutionReport],
    platform: str,
    *,
    output: Path | None,
    folder: Path,
    visibility: str = "visible",
) -> list[Path]:
    """Each report in `platform`'s format: to `output` for one solution (a folder for
    several: one file each), else to `<folder>/<solution>.<platform>.json`."""
    if output is not None and len(reports) == 1 and output.suffix == ".json":
        return [write_json(output, platform_results(reports[0], platform, visibility))]
    target = output or folder
    names = unique_stems(reports)
    return [
        write_json(target / f"{stem}.{platform}.json", platform_results(r, platform, visibility))
        for stem, r in zip(names, reports, strict=True)
    ]
