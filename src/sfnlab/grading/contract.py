"""The contract a solution follows (`starter/README.md`), as the grader reads it.

What each step adds to the payload, where a value counts in a message, and the data a
graded run starts from. Every run gets data of its own (issue, author, reviewer, comment),
so nothing but the `approve` decision can steer the workflow, and a value seen in a
message can only have come from the payload of that run.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sfnlab.workflow.approval import decision_event
from sfnlab.workflow.history import leaves

BRANCH = "branch"  # Create Branch adds it: the new branch's name, a non-empty string
RELEASE = "release"  # Create Release adds it: an object with a non-empty "name"
RELEASE_NAME = "name"
MIN_TOKEN_PIECE = 8  # a shorter string that happens to be in a token is not a cut token

WORDS = [
    "login",
    "checkout",
    "basket",
    "invoice",
    "search",
    "profile",
    "avatar",
    "payment",
    "export",
    "import",
    "report",
    "billing",
    "coupon",
    "cart",
    "wishlist",
    "session",
    "upload",
    "refund",
    "tracking",
    "filter",
]
PEOPLE = [
    "ana",
    "bob",
    "carol",
    "dmitri",
    "eve",
    "farah",
    "gus",
    "hana",
    "ivo",
    "jun",
    "kemal",
    "lena",
    "mo",
    "nia",
    "oskar",
]


@dataclass(frozen=True)
class RunData:
    """What one graded run is made of: its start event and the reviewer's decision."""

    issue: dict
    repository: str
    reviewer: str
    comment: str

    @property
    def start_event(self) -> dict:
        return {"issue": self.issue, "repository": self.repository}

    def decision(self, approve: bool, token: str) -> dict:
        """The test event the approve Lambda gets, as a reviewer fills it in."""
        return decision_event(approve, token, self.reviewer, self.comment)


def random_run() -> RunData:
    words = [secrets.choice(WORDS) for _ in range(3)]
    number = 100 + secrets.randbelow(9900)
    return RunData(
        issue={
            "id": f"ISSUE-{number}",
            "title": f"{words[0].capitalize()} {words[1]} fails after {words[2]}",
            "author": secrets.choice(PEOPLE),
        },
        repository=f"acme/{secrets.choice(WORDS)}-{secrets.token_hex(2)}",
        reviewer=secrets.choice(PEOPLE) + "-" + secrets.token_hex(2),
        comment=f"Checked the {secrets.choice(WORDS)} part ({secrets.token_hex(3)})",
    )


def branch_of(payload: Any) -> str | None:
    value = payload.get(BRANCH) if isinstance(payload, dict) else None
    return value if isinstance(value, str) and value else None


def release_name_of(payload: Any) -> str | None:
    release = payload.get(RELEASE) if isinstance(payload, dict) else None
    name = release.get(RELEASE_NAME) if isinstance(release, dict) else None
    return name if isinstance(name, str) and name else None


def names(message: Any, value: str) -> bool:
    """Whether a message holds `value` as a whole JSON value (never part of a longer text)."""
    return value in leaves(message)


def mentions(message: Any, value: str) -> bool:
    """Whether `value` appears only inside a longer string of the message."""
    return any(
        isinstance(leaf, str) and value in leaf and leaf != value for leaf in leaves(message)
    )


def cut_pieces(message: Any, token: str) -> list[str]:
    """Strings of the message that are a part of the token, but not all of it."""
    return [
        leaf
        for leaf in leaves(message)
        if isinstance(leaf, str)
        and len(leaf) >= MIN_TOKEN_PIECE
        and leaf != token
        and leaf in token
    ]


def contains(outer: Any, inner: Any) -> bool:
    """Whether `outer` holds everything `inner` holds (objects key by key, the rest equal)."""
    if isinstance(inner, dict):
        return isinstance(outer, dict) and all(
            key in outer and contains(outer[key], value) for key, value in inner.items()
        )
    return outer == inner


def dropped_keys(outer: Any, inner: Any) -> list[str]:
    """The keys of `inner` that `outer` lost or changed."""
    if not isinstance(inner, dict):
        return [] if outer == inner else ["(the payload itself)"]
    if not isinstance(outer, dict):
        return sorted(inner) or ["(the payload itself)"]
    return sorted(
        key for key, value in inner.items() if key not in outer or not contains(outer[key], value)
    )


def step_inputs(data: RunData) -> dict[str, dict]:
    """A contract-shaped payload for each step, as the steps before it would have left it:
    what the step's own run gives each step, whatever the steps before it do."""
    start = data.start_event
    code = {"commit": secrets.token_hex(6), "message": f"Fix {data.issue['id']}"}
    branch = f"feature/{data.issue['id']}-{secrets.token_hex(3)}"
    decision = {"approved": True, "reviewer": data.reviewer, "comment": data.comment}
    merge = {"branch": branch, "into": "master", "commit": secrets.token_hex(6)}
    release = {RELEASE_NAME: f"release-{secrets.token_hex(3)}-{data.issue['id']}"}
    return {
        "CreateCode": start,
        "CreateBranch": {**start, "code": code},
        "NotifyReviewers": {**start, "code": code, BRANCH: branch},
        "MergeToMaster": {**start, "code": code, BRANCH: branch, "review": decision},
        "CreateRelease": {
            **start,
            "code": code,
            BRANCH: branch,
            "review": decision,
            "merge": merge,
        },
        "NotifyOps": {
            **start,
            "code": code,
            BRANCH: branch,
            "review": decision,
            "merge": merge,
            RELEASE: release,
        },
    }
