"""What a hostile web page in the learner's browser can do to the inbox: nothing.

The page is served from another loopback port (any local program, or a site the browser
lets reach loopback); a second browser resolves a host name of the attacker's to
127.0.0.1, as DNS rebinding does. The inbox's own page still writes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from sfnlab.inbox import InboxClient
from sfnlab.inbox.service import ensure_inbox, stop_inbox
from sfnlab.testing.settings import settings_for
from sfnlab.testing.waiting import wait_for
from tests.browser.conftest import CHROMIUM_FLAGS, chromium_path

TOKEN = "token-only-the-reviewers-should-see"


@pytest.fixture
def inbox(tmp_path) -> Iterator[InboxClient]:
    settings = settings_for(tmp_path / "state")
    ensure_inbox(settings)
    client = InboxClient(settings.inbox_url)
    requests.post(f"{client.url}/reviewers", json={"taskToken": TOKEN}, timeout=5)
    yield client
    stop_inbox(settings)


def hostile_page(inbox_url: str) -> str:
    forged = json.dumps({"taskToken": "forged", "subject": "Please review branch evil"})
    return f"""<!doctype html><html><body>
<form id="form" method="POST" enctype="text/plain" action="{inbox_url}/reviewers">
  <input name='{forged[:-2]}' value='"}}'>
</form>
<script>
window.attempts = (async () => {{
  const outcome = {{}};
  try {{
    await fetch("{inbox_url}/reviewers", {{method: "POST", mode: "no-cors",
      headers: {{"Content-Type": "text/plain"}}, body: {json.dumps(forged)}}});
    outcome.post = "sent";
  }} catch (error) {{ outcome.post = "blocked"; }}
  try {{
    const answer = await fetch("{inbox_url}/api/requests");
    outcome.read = await answer.text();
  }} catch (error) {{ outcome.read = "blocked"; }}
  try {{
    await fetch("{inbox_url}/api/requests", {{method: "DELETE"}});
    outcome.delete = "sent";
  }} catch (error) {{ outcome.delete = "blocked"; }}
  return outcome;
}})();
</script></body></html>"""


@pytest.fixture
def hostile_site(inbox) -> Iterator[str]:
    page = hostile_page(inbox.url).encode()

    class Site(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def only_the_seeded_request(inbox: InboxClient) -> bool:
    stored = inbox.requests()
    return [r.json for r in stored] == [{"taskToken": TOKEN}]


def test_a_page_of_another_origin_can_neither_post_read_nor_delete(page, inbox, hostile_site):
    page.goto(hostile_site)
    outcome = page.evaluate("window.attempts")
    assert TOKEN not in json.dumps(outcome)
    assert outcome["read"] == "blocked"  # no CORS: the answer never reaches the page
    # The form needs no preflight either: the browser sends it, the inbox refuses it.
    with page.expect_navigation():
        page.evaluate("document.getElementById('form').submit()")
    assert "may not change the inbox" in page.content()
    assert only_the_seeded_request(inbox)


def test_a_host_name_rebound_to_loopback_gets_nothing(browser, inbox):
    port = inbox.url.rsplit(":", 1)[1]
    # The attacker's name, resolved to 127.0.0.1: its page and the inbox are same-origin.
    rebinding = browser.browser_type.launch(
        executable_path=chromium_path(),
        args=[*CHROMIUM_FLAGS, "--host-resolver-rules=MAP rebound.example 127.0.0.1"],
    )
    try:
        page = rebinding.new_page()
        answer = page.goto(f"http://rebound.example:{port}/")
        assert answer.status == 421
        outcome = page.evaluate(
            """async () => {
              const read = await fetch("/api/requests");
              const cleared = await fetch("/api/requests", {method: "DELETE"});
              return {read: read.status, body: await read.text(), cleared: cleared.status};
            }"""
        )
    finally:
        rebinding.close()
    assert outcome["read"] == 421 and outcome["cleared"] == 421
    assert TOKEN not in outcome["body"]
    assert only_the_seeded_request(inbox)


def test_the_inboxs_own_page_may_still_write(page, inbox):
    page.goto(f"{inbox.url}/")
    statuses = page.evaluate(
        """async () => {
          const posted = await fetch("/ops", {method: "POST", body: '{"from": "the page"}'});
          const cleared = await fetch("/api/requests?channel=ops", {method: "DELETE"});
          return [posted.status, cleared.status, await cleared.json()];
        }"""
    )
    assert statuses == [200, 200, {"deleted": 1}]
    assert wait_for(lambda: only_the_seeded_request(inbox))
