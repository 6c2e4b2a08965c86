"""LocalStack's log as `sfnlab logs` shows it: an expected Fail state is not an error.

LocalStack 4.14 logs every Fail state an execution reaches as an ERROR of some 2 KB
(`Exception=FailureEventException, Error=ReviewRejected, Details=... at '(StateFail| ...`),
the rejection a reviewer chose included. Shown here, such a line becomes one INFO line
naming the error and its cause. A failure anywhere else (a Lambda that raised, a
timeout) stays an ERROR, only without LocalStack's internal dump of the state.
"""

from __future__ import annotations

import re

FAILURE = re.compile(
    r"^(?P<time>\S+)\s+ERROR (?P<origin>.*?): Exception=FailureEventException, "
    r"Error=(?P<error>.*?), Details=(?P<details>.*?) at '\((?P<state>\w+)\|"
)
CAUSE = re.compile(r'"cause": "((?:[^"\\]|\\.)*)"')
SHOWN_CAUSE = 300  # characters: a 100 KB reject comment is not worth a screen


def readable(line: str) -> str:
    """`line`, with a Fail state's ERROR re-levelled and every state dump dropped."""
    found = FAILURE.match(line)
    if found is None:
        return line
    if found["state"] == "StateFail":
        cause = CAUSE.search(found["details"])
        text = shorten(cause.group(1)) if cause else ""
        return (
            f"{found['time']}  INFO {found['origin']}: The execution reached its Fail state "
            f"(expected by the workflow): Error={found['error']}"
            + (f", Cause={text}" if text else "")
        )
    return (
        f"{found['time']} ERROR {found['origin']}: Exception=FailureEventException, "
        f"Error={found['error']}, Details={shorten(found['details'], 2000)} "
        f"(in a {found['state'].removeprefix('State')} state)"
    )


def shorten(text: str, limit: int = SHOWN_CAUSE) -> str:
    """`text` cut to `limit` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit:,} more characters)"


def readable_log(text: str) -> str:
    return "\n".join(readable(line) for line in text.splitlines())
