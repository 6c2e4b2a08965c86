"""A class's worth of Lambdas posting at the same moment: each is stored and answered at once.

The inbox runs as `sfnlab up` runs it (its own process); the 200 requests leave together
from one event loop, each on its own connection.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from sfnlab.inbox import InboxClient
from sfnlab.inbox.service import ensure_inbox, stop_inbox
from sfnlab.settings import Settings
from sfnlab.testing.settings import settings_for

CONCURRENT = 200
BOUND = 0.250  # seconds, per request: the bound the issue asks for
# On two cores, processes of earlier tests still ending (a LocalStack and its Lambdas) can
# hold the CPU for a moment: a burst they slowed is sent again to a new inbox, at most
# twice. A slow inbox (a short listen backlog, too few workers) misses the bound each time.
ATTEMPTS = 3


@contextmanager
def own_inbox(folder: Path) -> Iterator[Settings]:
    """An inbox of its own: a new listening socket, so no burst inherits another's state
    (once a listen queue overflowed, the kernel answers later bursts with SYN cookies)."""
    settings = settings_for(folder)
    ensure_inbox(settings)
    try:
        yield settings
    finally:
        stop_inbox(settings)


async def post(port: int, channel: str, n: int, go: asyncio.Event) -> tuple[float, int, dict]:
    """One POST on its own connection: seconds from connecting to the whole answer."""
    body = json.dumps({"n": n}).encode()
    head = (
        f"POST /{channel} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    await go.wait()
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head + body)
    answer = await reader.read()  # to the end: the inbox closes after answering
    elapsed = time.perf_counter() - started
    writer.close()
    await writer.wait_closed()
    status_line, _, rest = answer.partition(b"\r\n")
    return elapsed, int(status_line.split()[1]), json.loads(rest.partition(b"\r\n\r\n")[2])


async def burst(port: int, channel: str) -> list[tuple[float, int, dict]]:
    go = asyncio.Event()
    posts = [asyncio.create_task(post(port, channel, n, go)) for n in range(CONCURRENT)]
    await asyncio.sleep(0.05)  # every task is waiting on `go`
    go.set()
    return await asyncio.gather(*posts)


def test_200_concurrent_posts_are_each_stored_and_answered_within_250_ms(tmp_path):
    slowest_of_each = []
    for attempt in range(ATTEMPTS):
        with own_inbox(tmp_path / f"state{attempt}") as settings:
            slowest_of_each.append(burst_at(settings))
        if slowest_of_each[-1] <= BOUND:
            break
    assert min(slowest_of_each) <= BOUND, f"the slowest of {CONCURRENT} took " + ", then ".join(
        f"{seconds * 1000:.0f} ms" for seconds in slowest_of_each
    )


def burst_at(settings: Settings) -> float:
    """Send the burst; check every request was stored and answered; the slowest's seconds."""
    inbox = InboxClient(settings.inbox_url)
    port = int(settings.inbox_url.rsplit(":", 1)[1])
    inbox.requests()  # the inbox is up and has opened its database
    # On a thread of its own: its event loop is the only one there (a browser test's
    # Playwright may hold this thread's).
    with ThreadPoolExecutor(max_workers=1) as thread:
        results = thread.submit(asyncio.run, burst(port, "burst")).result()

    assert [status for _, status, _ in results] == [200] * CONCURRENT
    stored = {r.id: r.json["n"] for r in inbox.requests(channel="burst", limit=1000)}
    assert sorted(stored.values()) == list(range(CONCURRENT))
    # Each answer names the request it stored.
    assert {receipt["id"]: n for n, (_, _, receipt) in enumerate(results)} == stored

    times = sorted(elapsed for elapsed, _, _ in results)
    print(  # the figures, with -s
        f"{CONCURRENT} concurrent POSTs: p50 {times[len(times) // 2] * 1000:.0f} ms, "
        f"p95 {times[int(len(times) * 0.95)] * 1000:.0f} ms, "
        f"max {times[-1] * 1000:.0f} ms (bound {BOUND * 1000:.0f} ms)"
    )
    return times[-1]
