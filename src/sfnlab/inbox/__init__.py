"""The inbox: a small HTTP service standing in for a public request catcher.

The exercise's Lambdas simulate their actions by POSTing to it (`/reviewers`, `/ops`,
...); learners read what arrived on its web page, and the kit reads it through its
JSON API (`InboxClient`). The server (`python -m sfnlab.inbox`) needs only the standard
library; the client is imported on first use.
"""

from typing import Any

from sfnlab.inbox.store import CapturedRequest, RequestStore

__all__ = ["CapturedRequest", "InboxClient", "RequestStore"]


def __getattr__(name: str) -> Any:
    if name == "InboxClient":
        from sfnlab.inbox.client import InboxClient

        return InboxClient
    raise AttributeError(f"module 'sfnlab.inbox' has no attribute {name!r}")
