"""The inbox: a small HTTP service standing in for a public request catcher.

The exercise's Lambdas simulate their actions by POSTing to it (`/reviewers`, `/ops`,
...); learners read what arrived on its web page, and the kit reads it through its
JSON API (`InboxClient`).
"""

from sfnlab.inbox.client import InboxClient
from sfnlab.inbox.store import CapturedRequest, RequestStore

__all__ = ["CapturedRequest", "InboxClient", "RequestStore"]
