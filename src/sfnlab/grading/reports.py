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


TABLE_WIDTH = 100  # narrower terminals get a list: a table's feedback column would be a sliver


def print_report(report: SolutionReport, console: Console) -> None:
    """The report as a table, or a list where the terminal is narrow; no word is ever cut
    (one longer than the line is folded onto the next, whole)."""
    title = f"{report.solution}: {report.score}/{report.total}"
    if not report.graded:
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
    if report.explained:
        console.print(report.explained, style="red", markup=False)
    if report.clean_up:
        console.print(f"Clean-up: {report.clean_up}", style="yellow", markup=False)


def junit_xml(reports: list[SolutionReport]) -> str:
    """One <testsuite> per solution, one <testcase> per requirement (failures carry feedback)."""
    suites = ElementTree.Element(
        "testsuites",
        name="sfnlab grading",
        tests=str(len(reports) * len(REQUIREMENTS)),
        failures=str(sum(not v.passed for r in reports for v in r.verdicts)),
    )
    for report in reports:
        suite = ElementTree.SubElement(
            suites,
            "testsuite",
            name=report.solution,
            tests=str(len(report.verdicts)),
            failures=str(sum(not v.passed for v in report.verdicts)),
            time=f"{report.seconds:.1f}",
        )
        ElementTree.SubElement(
            ElementTree.SubElement(suite, "properties"),
            "property",
            name="score",
            value=f"{report.score}/{report.total}",
        )
        for verdict in report.verdicts:
            case = ElementTree.SubElement(
                suite,
                "testcase",
                classname=report.solution,
                name=verdict.requirement.id,
            )
            if verdict.passed:
                ElementTree.SubElement(case, "system-out").text = verdict.feedback
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
        graded = "yes" if report.graded else "no (kit error)"
        writer.writerow([report.solution, *points, report.score, report.total, graded])
    return buffer.getvalue()


def summary_markdown(reports: list[SolutionReport]) -> str:
    header = ["solution", *(f"{r.id} ({r.points})" for r in REQUIREMENTS), "score"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for report in reports:
        cells = ["✓" if report.verdict(r.id).passed else "✗" for r in REQUIREMENTS]
        name = " ".join(report.solution.splitlines()).replace("|", "\\|")  # one row each
        score = f"{report.score}/{report.total}" if report.graded else "could not grade"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {score} |")
    return "\n".join(lines) + "\n"


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "solution"


def write_reports(reports: list[SolutionReport], folder: Path) -> list[Path]:
    """JSON per solution, JUnit XML for all, and the class summary as CSV and Markdown."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    taken: set[str] = set()
    for report in reports:
        stem, number = safe_name(report.solution), 1
        while stem.lower() in taken:  # two learners' folders may share a name
            number += 1
            stem = f"{safe_name(report.solution)}-{number}"
        taken.add(stem.lower())
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
