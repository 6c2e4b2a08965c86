"""Reading the inbox from Python: what arrived, and waiting for something to arrive.

Every command that reads the inbox reads it here, so each says the same of an inbox that
is not there (not reachable, not answering) or of another program on its port.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from sfnlab.errors import LearnerError, PortInUse
from sfnlab.inbox.store import CapturedRequest
from sfnlab.support.network import free_port_near, is_loopback

NO_PROXY = {"http": "", "https": ""}
HEALTH = "/api/health"


def inbox_address(url: str) -> tuple[str, int]:
    """The host and port the inbox at `url` listens on."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    return ("127.0.0.1" if host == "localhost" else host), parts.port or 80


def not_the_inbox(url: str, avoid: int = 0) -> PortInUse:
    """Another program answers where the inbox should: what `sfnlab up` and every command
    that reads the inbox say. `avoid`: a port not to suggest (LocalStack's)."""
    host, port = inbox_address(url)
    free = free_port_near(host, port, avoid) if is_loopback(host) else None
    return PortInUse(
        f"Port {port} on {host}, the inbox's, is held by a program that is not the inbox.",
        hint="Stop that program, or give the inbox another port"
        + (
            f", e.g. `export SFNLAB_INBOX_URL=http://127.0.0.1:{free}` (port {free} is free "
            "now), then `sfnlab up`; every shell you use the kit from needs that setting."
            if free
            else "."
        ),
    )


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
        except requests.ConnectionError:
            raise LearnerError(
                f"The inbox is not reachable at {self.url}.", hint="Start it with `sfnlab up`."
            ) from None
        except requests.Timeout:
            raise LearnerError(
                f"The inbox at {self.url} did not answer within {self.timeout:g} s.",
                hint="If it hangs, stop it with `sfnlab down` and start it with `sfnlab up` "
                "(nothing it stored is lost).",
            ) from None
        try:
            response.raise_for_status()
            found = response.json()
            if isinstance(found, dict):
                return found
        except (requests.HTTPError, ValueError):
            pass
        # Not the inbox's answer: another program on its port, or (if the inbox itself
        # says it is healthy) a request the kit got wrong.
        if route != HEALTH and self.health() is not None:
            raise RuntimeError(
                f"The inbox at {self.url} refused {method} {route}: HTTP "
                f"{response.status_code} {response.text[:200]}"
            )
        raise not_the_inbox(self.url)

    def health(self) -> dict | None:
        """The inbox's own answer to a health check; None when it is not the inbox."""
        try:
            found = self._call("GET", HEALTH)
        except LearnerError:
            return None
        return found if found.get("status") == "ok" and "latest" in found else None

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
