"""Measure what the workflow picture costs: drawing it, and each refresh of the live page.

    .sfnlab/venv/bin/python benchmarks/picture.py [--runs 21] [--live URL]

1. Drawing (no LocalStack): the layout and the SVG of SolveIssue, TwoReviewers and a
   definition with every state type, each marked with an execution that went through
   it; and the whole page body the live page swaps in.
2. With --live URL (a running `sfnlab graph --watch`, e.g. http://127.0.0.1:4568/ or with
   ?execution=...): the time of each GET /fragment, which the page asks for every second.

Medians are printed beside the least and the target: a refresh must take well under the
second between two (target: a median under 0.25 s), so that the page keeps up and leaves
the machine to LocalStack.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

TARGET = 0.25  # seconds, median


def timed(action, runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - start)
    return seconds


def report(label: str, seconds: list[float], target: float | None = TARGET) -> None:
    median = statistics.median(seconds)
    verdict = "" if target is None else (" ok" if median <= target else " OVER")
    limit = "" if target is None else f"  (target: median <= {target:.2f} s){verdict}"
    print(f"{label:<40} median {median:.3f} s  least {min(seconds):.3f} s{limit}")


def ran_through(definition: dict):
    """An execution that entered every state of the machine's own flow once, in order."""
    from sfnlab.workflow.executions import Execution
    from sfnlab.workflow.history import Visit

    path = []
    for number, name in enumerate(definition["States"]):
        kind = definition["States"][name]["Type"]
        path.append(
            Visit(name, kind, "succeeded", exited=True, came_from=number - 1 if number else None)
        )
    return Execution(arn="arn:x:execution:m:e", name="e", status="SUCCEEDED", path=path)


def drawing(runs: int) -> None:
    from sfnlab.deploy.definition import load_template
    from sfnlab.testing.definitions import EVERY_STATE_TYPE
    from sfnlab.workflow.graph import draw
    from sfnlab.workflow.picture_page import page_body

    folder = PROJECT_ROOT / "definitions"
    definitions = {
        "SolveIssue": load_template(folder / "SolveIssueStepFunction.json"),
        "TwoReviewers": load_template(folder / "TwoReviewersStepFunction.json"),
        "every state type": EVERY_STATE_TYPE,
    }
    for name, definition in definitions.items():
        execution = ran_through(definition)
        report(
            f"draw {name}: layout and SVG",
            timed(lambda d=definition, e=execution: draw("M", d, e).svg(), runs),
        )
    definition = definitions["SolveIssue"]
    execution = ran_through(definition)
    report(
        "the live page's body (SolveIssue)",
        timed(lambda: page_body(draw("SolveIssue", definition, execution)), runs),
    )


def live(url: str, runs: int) -> None:
    import requests

    base, _, query = url.partition("?")
    fragment = f"{base.rstrip('/')}/fragment" + (f"?{query}" if query else "")
    requests.get(fragment, timeout=30).raise_for_status()  # the first draws the kit's imports
    print(f"live page: {url}")
    report("each GET /fragment", timed(lambda: requests.get(fragment, timeout=30), runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--live", metavar="URL", help="a running `sfnlab graph --watch`")
    args = parser.parse_args()
    drawing(args.runs)
    if args.live:
        live(args.live, args.runs)


if __name__ == "__main__":
    main()
