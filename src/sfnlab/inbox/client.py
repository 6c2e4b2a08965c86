"""Reading the inbox from Python: what arrived, and waiting for something to arrive."""

from __future__ import annotations

import requests

from sfnlab.errors import LearnerError
from sfnlab.inbox.store import CapturedRequest

NO_PROXY = {"http": "", "https": ""}


class InboxClient:
    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, route: str, body: object = None, **params: object) -> dict:
        try:
            response = requests.request(
                method,
                f"{self.url}{route}",
                params={k: v for k, v in params.items() if v is not None},
                json=body,
                timeout=self.timeout,
                proxies=NO_PROXY,
            )
            response.raise_for_status()
            return response.json()
        except requests.ConnectionError:
            raise LearnerError(
                f"The inbox is not reachable at {self.url}.", hint="Start it with `sfnlab up`."
            ) from None

    def health(self) -> dict | None:
        try:
            return self._call("GET", "/api/health")
        except (LearnerError, requests.RequestException, ValueError):
            return None

    def requests(
        self,
        channel: str | None = None,
        path: str | None = None,
        since: int | None = None,
        limit: int = 100,
    ) -> list[CapturedRequest]:
        """Newest first."""
        found = self._call(
            "GET", "/api/requests", channel=channel, path=path, since=since, limit=limit
        )["requests"]
        return [CapturedRequest(**{k: v for k, v in item.items() if k != "json"}) for item in found]

    def clear(self, channel: str | None = None) -> int:
        return self._call("DELETE", "/api/requests", channel=channel)["deleted"]

    def post_marks(self, marks: list[dict]) -> int:
        """Tell the inbox what the kit found of its reviews (see `sfnlab.inbox.marks`);
        how many marks changed."""
        return self._call("POST", "/api/marks", {"marks": marks})["changed"]
