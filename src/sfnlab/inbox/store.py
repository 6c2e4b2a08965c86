"""Captured requests, kept in SQLite so they survive a restart of the inbox; and the
marks the kit posts of the reviews among them (whether each token can still decide)."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    channel TEXT NOT NULL,
    query TEXT NOT NULL,
    headers TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_by_channel ON requests (channel, id);
CREATE TABLE IF NOT EXISTS marks (
    request_id INTEGER PRIMARY KEY,
    mark TEXT NOT NULL,
    detail TEXT NOT NULL,
    since TEXT NOT NULL,
    version INTEGER NOT NULL
);
"""
# What a review's token can still do, as the kit found (see sfnlab.workflow.review_marks).
MARKS = ("waiting", "decided", "expired", "spent")
MAX_LIMIT = 1000  # requests in one answer
MAX_ID = 2**63 - 1  # SQLite's largest integer


def json_or_none(text: str) -> Any:
    """`text` parsed as JSON, or None when it is not JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class CapturedRequest:
    id: int
    received_at: str
    method: str
    path: str
    channel: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: str

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or None when it is not JSON."""
        return json_or_none(self.body)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "json": self.json}


@dataclass(frozen=True)
class Mark:
    """What the kit found of the review a request carries, and since when."""

    mark: str  # one of MARKS
    detail: str
    since: str  # ISO 8601, UTC: when the inbox first got this mark for the request


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def channel_of(path: str) -> str:
    """The first segment of the path: `/reviewers/anything` is on channel `reviewers`."""
    return path.strip("/").split("/", 1)[0] or "(root)"


class RequestStore:
    """Thread-safe access to the requests table of one SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # With WAL, NORMAL keeps every commit through a crash or kill of the inbox, and
        # only a crash of the machine itself can lose the last few; FULL would wait for
        # the disk on every request, which under load is what a burst waits on.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def add(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: str,
    ) -> CapturedRequest:
        received_at = now()
        channel = channel_of(path)
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO requests (received_at, method, path, channel, query, headers, body)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (received_at, method, path, channel, json.dumps(query), json.dumps(headers), body),
            )
        return CapturedRequest(
            cursor.lastrowid, received_at, method, path, channel, query, headers, body
        )

    def list(
        self,
        channel: str | None = None,
        path: str | None = None,
        since: int | None = None,
        limit: int = 100,
    ) -> list[CapturedRequest]:
        """Newest first, at most MAX_LIMIT; `since` keeps only requests with a larger id."""
        limit = max(1, min(limit, MAX_LIMIT))
        since = None if since is None else max(0, min(since, MAX_ID))
        clauses, values = [], []
        for clause, value in (("channel = ?", channel), ("path = ?", path), ("id > ?", since)):
            if value is not None:
                clauses.append(clause)
                values.append(value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._lock:
            rows = self._db.execute(
                f"SELECT * FROM requests {where} ORDER BY id DESC LIMIT ?", (*values, limit)
            ).fetchall()
        return [self._from_row(row) for row in rows]

    def channels(self) -> list[str]:
        """Every channel that holds a request, sorted."""
        with self._lock:
            rows = self._db.execute("SELECT DISTINCT channel FROM requests ORDER BY channel")
            return [channel for (channel,) in rows.fetchall()]

    def get(self, request_id: int) -> CapturedRequest | None:
        if not 0 < request_id <= MAX_ID:
            return None
        with self._lock:
            row = self._db.execute("SELECT * FROM requests WHERE id = ?", (request_id,)).fetchone()
        return self._from_row(row) if row else None

    def latest_id(self) -> int:
        with self._lock:
            (latest,) = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM requests").fetchone()
        return latest

    def clear(self, channel: str | None = None) -> int:
        with self._lock:
            if channel is None:
                cursor = self._db.execute("DELETE FROM requests")
            else:
                cursor = self._db.execute("DELETE FROM requests WHERE channel = ?", (channel,))
        # The marks of cleared requests stay: ids are never reused, so they are never shown
        # again, and their versions keep `marks_version` growing.
        return cursor.rowcount

    def set_marks(self, marks: list[tuple[int, str, str]]) -> int:
        """Keep each (request id, mark, detail) for a request that exists; how many marks
        changed (a mark posted again as it was changes nothing, its `since` included)."""
        changed = 0
        with self._lock:
            (version,) = self._db.execute("SELECT COALESCE(MAX(version), 0) FROM marks").fetchone()
            self._db.execute("BEGIN")
            try:
                for request_id, mark, detail in marks:
                    kept = self._db.execute(
                        "SELECT mark, detail FROM marks WHERE request_id = ?", (request_id,)
                    ).fetchone()
                    if kept == (mark, detail):
                        continue
                    exists = self._db.execute(
                        "SELECT 1 FROM requests WHERE id = ?", (request_id,)
                    ).fetchone()
                    if not exists:
                        continue
                    version += 1
                    changed += 1
                    self._db.execute(
                        "INSERT OR REPLACE INTO marks (request_id, mark, detail, since, version)"
                        " VALUES (?, ?, ?, ?, ?)",
                        (request_id, mark, detail, now(), version),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return changed

    def marks(self, request_ids: list[int]) -> dict[int, Mark]:
        """The marks of these requests (those that have one)."""
        found: dict[int, Mark] = {}
        with self._lock:
            for start in range(0, len(request_ids), 500):  # SQLite's limit on parameters
                chunk = request_ids[start : start + 500]
                rows = self._db.execute(
                    "SELECT request_id, mark, detail, since FROM marks WHERE request_id IN "
                    f"({', '.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
                found.update({row[0]: Mark(*row[1:]) for row in rows})
        return found

    def marks_version(self) -> int:
        """Grows whenever a mark changes: the page asks for its list again then."""
        with self._lock:
            (version,) = self._db.execute("SELECT COALESCE(MAX(version), 0) FROM marks").fetchone()
        return version

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @staticmethod
    def _from_row(row: tuple) -> CapturedRequest:
        id_, received_at, method, path, channel, query, headers, body = row
        return CapturedRequest(
            id_, received_at, method, path, channel, json.loads(query), json.loads(headers), body
        )
