"""Grading reports: a table for the terminal, JSON per solution, JUnit XML, class summaries."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from xml.etree import ElementTree

from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from sfnlab.grading.grader import SolutionReport
from sfnlab.grading.requirements import REQUIREMENTS


def as_dict(report: SolutionReport) -> dict:
    return {
        "solution": report.solution,
        "path": report.path,
        "score": report.score,
        "total": report.total,
        "seconds": round(report.seconds, 1),
        "graded": report.graded,
        "explained": report.explained,
        "refused": report.refused,
        "blocked": report.blocked,
        "problems": report.problems,
        "warnings": report.warnings,
        "notes": report.notes,
        "requirements": [
            {
                "id": v.requirement.id,
                "title": v.requirement.title,
                "passed": v.passed,
                "checked": v.checked,
                "points": v.points,
                "max_points": v.requirement.points,
                "feedback": v.feedback,
            }
            for v in report.verdicts
        ],
    }


def learner_summary(report: SolutionReport) -> str:
    """The whole submission's outcome in a few lines, as a learner reads it on a platform."""
    if report.refused:
        return (
            f"Not graded: {report.refused}. Nothing of it was run. Fix that, then hand it in "
            "again (`sfnlab submit` makes a zip the grader takes)."
        )
    if not report.graded:
        first = (report.explained or "").split("\n", 1)[0]
        return (
            "Not graded: the grading kit failed, not your solution "
            f"({first.removeprefix('could not grade (kit error): ')}). This is not your "
            "score: your instructor can run the grading again."
        )
    lines = [f"Score: {report.score}/{report.total}."]
    if report.problems:
        lines.append("Found before anything ran (the grader could not run all of it):")
        lines += [f"- {problem}" for problem in report.problems]
    if report.warnings:
        lines.append("Found before anything ran (these cost points):")
        lines += [f"- {warning}" for warning in report.warnings]
    lines += report.notes
    return "\n".join(lines)


TABLE_WIDTH = 100  # narrower terminals get a list: a table's feedback column would be a sliver


def print_report(report: SolutionReport, console: Console) -> None:
    """The report as a table, or a list where the terminal is narrow; no word is ever cut
    (one longer than the line is folded onto the next, whole)."""
    title = f"{report.solution}: {report.score}/{report.total}"
    if report.refused:
        title += f" (not graded: {report.refused})"
    elif not report.graded:
        title += " (could not grade: a kit error, not the learner's)"
    if console.width < TABLE_WIDTH:
        console.print(title, style="bold", markup=False)
        for verdict in report.verdicts:
            mark = "[green]✓[/green]" if verdict.passed else "[red]✗[/red]"
            points = f"{verdict.points}/{verdict.requirement.points}"
            console.print(f"{mark} {verdict.requirement.title} ({points})", overflow="fold")
            console.print(
                Padding(Text(verdict.feedback, overflow="fold"), (0, 0, 1, 2), expand=False)
            )
    else:
        table = Table(title=title, title_justify="left", expand=True)
        table.add_column("requirement", ratio=2, overflow="fold")
        table.add_column("points", justify="right", no_wrap=True)
        table.add_column("feedback", ratio=5, overflow="fold")
        for verdict in report.verdicts:
            mark = "[green]✓[/green]" if verdict.passed else "[red]✗[/red]"
            table.add_row(
                f"{mark} {verdict.requirement.title}",
                f"{verdict.points}/{verdict.requirement.points}",
                Text(verdict.feedback),
            )
        console.print(table)
    for line in report.problems + report.warnings:
        console.print(f"Before it ran: {line}", style="yellow", markup=False)
    for line in report.notes:
        console.print(line, markup=False)
    if report.explained:
        console.print(report.explained, style="red", markup=False)
    if report.blocked:
        console.print(
            "Blocked by LocalStack (its own endpoints are closed; no points depend on it): "
            + "; ".join(report.blocked),
            style="yellow",
            markup=False,
        )
    if report.clean_up:
        console.print(f"Clean-up: {report.clean_up}", style="yellow", markup=False)


def junit_xml(reports: list[SolutionReport]) -> str:
    """One <testsuite> per solution, one <testcase> per requirement: a requirement not met
    is a <failure> carrying its feedback, one the kit could not grade an <error>; each
    case's points are its properties (`points`, `max_points`), each suite's score its own.
    The common JUnit format CI systems read (schemas/junit-report.schema.json)."""
    suites = ElementTree.Element(
        "testsuites",
        name="sfnlab grading",
        tests=str(len(reports) * len(REQUIREMENTS)),
        failures=str(sum(not v.passed for r in reports if r.graded for v in r.verdicts)),
        errors=str(sum(not v.passed for r in reports if not r.graded for v in r.verdicts)),
    )
    for report in reports:
        failed = sum(not v.passed for v in report.verdicts)
        suite = ElementTree.SubElement(
            suites,
            "testsuite",
            name=report.solution,
            tests=str(len(report.verdicts)),
            failures=str(failed if report.graded else 0),
            errors=str(0 if report.graded else failed),
            time=f"{report.seconds:.1f}",
        )
        properties = ElementTree.SubElement(suite, "properties")
        for name, value in (
            ("score", f"{report.score}/{report.total}"),
            ("points", str(report.score)),
            ("max_points", str(report.total)),
            ("graded", "yes" if report.graded and not report.refused else "no"),
        ):
            ElementTree.SubElement(properties, "property", name=name, value=value)
        for verdict in report.verdicts:
            case = ElementTree.SubElement(
                suite,
                "testcase",
                classname=report.solution,
                name=verdict.requirement.id,
            )
            case_properties = ElementTree.SubElement(case, "properties")
            for name, value in (
                ("title", verdict.requirement.title),
                ("points", str(verdict.points)),
                ("max_points", str(verdict.requirement.points)),
            ):
                ElementTree.SubElement(case_properties, "property", name=name, value=value)
            if verdict.passed:
                ElementTree.SubElement(case, "system-out").text = verdict.feedback
            elif not report.graded:
                error = ElementTree.SubElement(
                    case, "error", message="could not grade (kit error)", type="KitFault"
                )
                error.text = verdict.feedback
            else:
                failure = ElementTree.SubElement(
                    case, "failure", message=verdict.requirement.title, type="RequirementNotMet"
                )
                failure.text = verdict.feedback
    ElementTree.indent(suites)
    return ElementTree.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def summary_csv(reports: list[SolutionReport]) -> str:
    """A row per learner, a column per requirement (points), then the total."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["solution", *(r.id for r in REQUIREMENTS), "score", "total", "graded"])
    for report in reports:
        points = [report.verdict(r.id).points for r in REQUIREMENTS]
        graded = "no (refused)" if report.refused else "yes" if report.graded else "no (kit error)"
        writer.writerow([report.solution, *points, report.score, report.total, graded])
    return buffer.getvalue()


def summary_markdown(reports: list[SolutionReport]) -> str:
    header = ["solution", *(f"{r.id} ({r.points})" for r in REQUIREMENTS), "score"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for report in reports:
        cells = ["✓" if report.verdict(r.id).passed else "✗" for r in REQUIREMENTS]
        name = " ".join(report.solution.splitlines()).replace("|", "\\|")  # one row each
        score = f"{report.score}/{report.total}" if report.graded else "could not grade"
        score = "refused" if report.refused else score
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {score} |")
    return "\n".join(lines) + "\n"


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "solution"


def unique_stems(reports: list[SolutionReport]) -> list[str]:
    """A file name for each report, told apart where two learners' names are alike."""
    stems: list[str] = []
    taken: set[str] = set()
    for report in reports:
        stem, number = safe_name(report.solution), 1
        while stem.lower() in taken:  # two learners' folders may share a name
            number += 1
            stem = f"{safe_name(report.solution)}-{number}"
        taken.add(stem.lower())
        stems.append(stem)
    return stems


def write_reports(reports: list[SolutionReport], folder: Path) -> list[Path]:
    """JSON per solution, JUnit XML for all, and the class summary as CSV and Markdown."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, report in zip(unique_stems(reports), reports, strict=True):
        path = folder / f"{stem}.json"
        path.write_text(json.dumps(as_dict(report), indent=2) + "\n")
        written.append(path)
    for name, text in (
        ("junit.xml", junit_xml(reports)),
        ("summary.csv", summary_csv(reports)),
        ("summary.md", summary_markdown(reports)),
    ):
        (folder / name).write_text(text)
        written.append(folder / name)
    return written


def write_json(path: Path, value: dict) -> Path:
    """Write `value` whole or not at all (a platform reads the file once the run ends)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(value, indent=2) + "\n")
    partial.replace(path)
    return path


def cell(text: str) -> str:
    """Text as one Markdown table cell: on one line, its pipes escaped."""
    return " ".join(text.splitlines()).replace("|", "\\|")


def step_summary(reports: list[SolutionReport]) -> str:
    """Each solution's score and feedback as Markdown, for a CI job's summary page."""
    lines = []
    for report in reports:
        lines += [f"## {cell(report.solution)}: {report.score}/{report.total}", ""]
        lines += [*learner_summary(report).splitlines(), ""]
        lines += ["| requirement | points | feedback |", "| --- | --- | --- |"]
        for verdict in report.verdicts:
            mark = "✓" if verdict.passed else "✗"
            lines.append(
                f"| {mark} {cell(verdict.requirement.title)} "
                f"| {verdict.points}/{verdict.requirement.points} | {cell(verdict.feedback)} |"
            )
        lines.append("")
    return "\n".join(lines)
