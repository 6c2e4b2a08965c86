"""The workflow picture in a real Chromium: the path each run took and every label whole
(read from the DOM), the live page following an execution from its review to its end
without a reload, and the inbox marking which review's token can still decide.

Screenshots go to test-output/screenshots/picture-*.png and inbox-*.png.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import psutil
import pytest
import requests
from playwright.sync_api import Page, expect

from sfnlab.deploy.resources import deploy_state_machine
from sfnlab.inbox import InboxClient
from sfnlab.settings import PROJECT_ROOT, Settings
from sfnlab.support.aws import client
from sfnlab.support.network import free_port
from sfnlab.testing.waiting import wait_for
from sfnlab.workflow import approval
from sfnlab.workflow import executions as execution
from sfnlab.workflow.graph import graph

TWO_REVIEWERS = "SolveIssueTwoReviewers"
QUICK_REVIEW = "SolveIssueQuickReview"  # a review that times out after 2 s

# Each text of the picture inside the shape it belongs to (a state's box, a label's, a
# branch's frame, a legend's item), no two lines of one shape on each other, no two
# boxes or labels on each other, and nothing wider than the window.
PROBLEMS = """
() => {
  const problems = [];
  const box = (element) => element.getBBox();
  const inside = (a, b) => a.x >= b.x - 0.5 && a.y >= b.y - 0.5 &&
    a.x + a.width <= b.x + b.width + 0.5 && a.y + a.height <= b.y + b.height + 0.5;
  const overlap = (a, b) => a.x + a.width > b.x + 0.5 && b.x + b.width > a.x + 0.5 &&
    a.y + a.height > b.y + 0.5 && b.y + b.height > a.y + 0.5;
  const texts = [...document.querySelectorAll("svg.sfnlab-picture text")];
  if (texts.length === 0) problems.push("no picture");
  for (const text of texts) {
    const group = text.closest("[data-box]");
    const shape = group && group.querySelector(":scope > rect");
    if (!shape) { problems.push(`no shape around "${text.textContent}"`); continue; }
    if (!inside(box(text), box(shape)))
      problems.push(`"${text.textContent}" sticks out of its ${group.dataset.box}`);
    const siblings = [...group.querySelectorAll(":scope > text")];
    for (const other of siblings)
      if (other !== text && overlap(box(text), box(other)))
        problems.push(`"${text.textContent}" lies on "${other.textContent}"`);
  }
  const shapes = [...document.querySelectorAll(
    'svg.sfnlab-picture [data-box="state"], [data-box="pseudo"], [data-box="label"]')];
  for (let i = 0; i < shapes.length; i++)
    for (let j = i + 1; j < shapes.length; j++) {
      const [a, b] = [shapes[i], shapes[j]];
      if (a.contains(b) || b.contains(a)) continue;  // a state and what runs inside it
      const [ra, rb] = [a.querySelector(":scope > rect"), b.querySelector(":scope > rect")];
      if (overlap(box(ra), box(rb)))
        problems.push(`${a.textContent.slice(0, 40)} lies on ${b.textContent.slice(0, 40)}`);
    }
  const page = document.documentElement;
  if (page.scrollWidth > page.clientWidth + 1) problems.push("the page is wider than the window");
  return problems;
}
"""

TAKEN = """
(scope) => [...document.querySelectorAll("svg.sfnlab-picture g.arrow")]
  .filter((arrow) => scope ? arrow.closest("[data-branch]") === document.querySelector(scope)
                           : !arrow.closest("[data-branch]"))
  .filter((arrow) => Number(arrow.dataset.taken) > 0)
  .map((arrow) => [arrow.dataset.from, arrow.dataset.to, arrow.dataset.kind])
"""


def taken(page: Page, scope: str | None = None) -> set[tuple[str, str, str]]:
    """The arrows taken in the machine's own flow (or in the branch `scope` selects)."""
    return {tuple(arrow) for arrow in page.evaluate(TAKEN, scope)}


def assert_whole(page: Page) -> None:
    assert page.evaluate(PROBLEMS) == []


def shoot(page: Page, output_dir, name: str) -> None:
    page.screenshot(path=output_dir / "screenshots" / f"{name}.png", full_page=True)


APPROVED_PATH = {
    ("(start)", "CreateCode", "next"),
    ("CreateCode", "CreateBranch", "next"),
    ("CreateBranch", "NotifyReviewers", "next"),
    ("NotifyReviewers", "ReviewDecision", "next"),
    ("ReviewDecision", "MergeToMaster", "choice"),
    ("MergeToMaster", "CreateRelease", "next"),
    ("CreateRelease", "NotifyOps", "next"),
    ("NotifyOps", "IssueSolved", "next"),
    ("IssueSolved", "(end)", "next"),
}
REJECTED_PATH = {
    ("(start)", "CreateCode", "next"),
    ("CreateCode", "CreateBranch", "next"),
    ("CreateBranch", "NotifyReviewers", "next"),
    ("NotifyReviewers", "ReviewDecision", "next"),
    ("ReviewDecision", "ReviewRejected", "default"),
    ("ReviewRejected", "(end)", "next"),
}


def finished_run(settings: Settings, approve: bool) -> str:
    started = execution.start(settings)
    review = approval.find_review(settings, started.name, wait=True)
    approval.decide(settings, approve, token=review.token)
    execution.wait_for_end(settings, started.arn)
    return started.arn


@pytest.mark.parametrize("approve", [True, False], ids=["approved", "rejected"])
def test_a_finished_run_shows_the_path_it_took_and_every_label_whole(
    page, localstack, deployment, tmp_path, output_dir, approve
):
    arn = finished_run(localstack, approve)
    page.goto(graph(localstack, arn).save(tmp_path / "picture.html").as_uri())
    assert taken(page) == (APPROVED_PATH if approve else REJECTED_PATH)
    muted = page.locator("g.arrow.muted")
    expect(muted.first).to_be_visible()
    assert muted.count() + page.locator("g.arrow.catch-muted").count() == page.locator(
        "g.arrow"
    ).count() - len(APPROVED_PATH if approve else REJECTED_PATH)
    decided = "MergeToMaster" if approve else "ReviewRejected"
    expect(page.locator(f'g[data-state="{decided}"]')).to_have_attribute(
        "data-status", "succeeded" if approve else "failed"
    )
    # Every label whole: the catch's two errors and the Choice's rule, in full.
    catch = page.locator('g.edge-label[data-to="ReviewTimedOut"] text')
    expect(catch).to_have_text(["catch States.Timeout,", "States.HeartbeatTimeout"])
    rule = page.locator('g.edge-label[data-to="MergeToMaster"] text')
    expect(rule).to_have_text(["$.review.approved == true"])
    expect(page.locator('g.pseudo[data-state="(start)"]')).to_have_text("Start")
    assert_whole(page)
    shoot(page, output_dir, f"picture-{'approved' if approve else 'rejected'}")


@pytest.fixture(scope="module")
def two_reviewers(localstack, deployment) -> str:
    """TwoReviewers deployed beside SolveIssue, under a name of its own."""
    definition = PROJECT_ROOT / "definitions" / "TwoReviewersStepFunction.json"
    return deploy_state_machine(localstack, TWO_REVIEWERS, definition)


@pytest.fixture(scope="module")
def live_picture(localstack, deployment) -> Iterator[str]:
    """`sfnlab graph --watch`, as a learner runs it, for the session's LocalStack."""
    port = free_port()
    env = {
        **os.environ,
        "SFNLAB_ENDPOINT": localstack.endpoint,
        "SFNLAB_INBOX_URL": localstack.inbox_url,
        "SFNLAB_STATE_DIR": str(localstack.state_dir),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "sfnlab", "graph", "--watch", "--no-browser", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        answers = wait_for(lambda: health(url) or process.poll() is not None, timeout=60)
        assert answers and process.poll() is None, process.stdout.read() if process.stdout else ""
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def health(url: str) -> bool:
    try:
        return requests.get(f"{url}api/health", timeout=2).ok
    except requests.RequestException:
        return False


def listening_addresses(port: int) -> set[str]:
    return {
        connection.laddr.ip
        for connection in psutil.net_connections(kind="tcp")
        if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port
    }


def test_the_live_page_follows_an_execution_from_its_review_to_its_end(
    page, localstack, live_picture, output_dir
):
    port = int(live_picture.rsplit(":", 1)[1].strip("/"))
    assert listening_addresses(port) == {"127.0.0.1"}
    page.goto(live_picture)
    page.evaluate("window.notReloaded = true")
    branch = '<img src=x onerror="window.pwned = 1">feature/live'
    started = execution.start(localstack, {"issue": {"id": "ISSUE-7"}, "branch": branch})
    # The page (following the latest execution) switches to it, and sees it wait.
    status = page.locator("p.status-line")
    expect(status).to_have_attribute("data-execution", started.name, timeout=30_000)
    review = approval.find_review(localstack, started.name, wait=True)
    expect(page.locator('g[data-state="NotifyReviewers"]')).to_have_attribute(
        "data-status", "waiting", timeout=15_000
    )
    expect(status).to_contain_text("waiting at NotifyReviewers")
    assert_whole(page)
    shoot(page, output_dir, "picture-live-waiting")

    # What the learner typed shows as text, never as markup.
    row = page.locator('tr[data-state="CreateCode"]')
    row.locator("summary", has_text="input").click()
    expect(row).to_contain_text(branch.replace('"', '\\"'))
    assert page.locator("#picture-body img").count() == 0

    comment = "<script>window.pwned = 2</script> ship it"
    approval.decide(localstack, True, token=review.token, comment=comment)
    expect(status).to_have_attribute("data-status", "SUCCEEDED", timeout=30_000)
    assert taken(page) == APPROVED_PATH
    # The input opened before stays open across the updates.
    expect(row.locator("details").first).to_have_attribute("open", "")
    page.locator('tr[data-state="NotifyReviewers"] summary', has_text="output").click()
    expect(page.locator('tr[data-state="NotifyReviewers"]')).to_contain_text(comment)
    assert page.evaluate("window.notReloaded") is True
    assert page.evaluate("window.pwned") is None
    assert_whole(page)
    shoot(page, output_dir, "picture-live-succeeded")


def reviewers_notified(settings: Settings, name: str, count: int) -> dict[str, dict]:
    """The reviewers' notifications of execution `name`, by reviewer, once `count` came."""

    def found() -> dict[str, dict]:
        notes = {}
        for request in InboxClient(settings.inbox_url).requests(channel="reviewers"):
            body = request.json
            if isinstance(body, dict) and body.get("execution") == name:
                notes[body.get("reviewer", "")] = {**body, "id": request.id}
        return notes if len(notes) >= count else {}

    notes = wait_for(found, timeout=30)
    assert notes, f"{count} notification(s) for {name}"
    return notes


def inbox_mark(page: Page, request_id: int):
    return page.locator(f"#request-{request_id}")


def test_two_reviewers_one_decided_the_inbox_says_whose_token_still_decides(
    page, browser, localstack, two_reviewers, live_picture, output_dir
):
    started = execution.start(localstack, machine=TWO_REVIEWERS)
    notes = reviewers_notified(localstack, started.name, 2)
    ana, bob = notes["ana"], notes["bob"]
    page.goto(f"{live_picture}?machine={TWO_REVIEWERS}&execution={started.name}")
    for reviewer in ("AskAna", "AskBob"):
        expect(page.locator(f'g[data-state="{reviewer}"]')).to_have_attribute(
            "data-status", "waiting", timeout=15_000
        )
    approval.decide(localstack, True, token=ana["taskToken"], reviewer="ana")

    inbox = browser.new_page(viewport={"width": 1100, "height": 900})
    inbox.goto(f"{localstack.inbox_url}/?channel=reviewers")
    expect(inbox_mark(inbox, ana["id"])).to_have_attribute("data-mark", "decided", timeout=20_000)
    expect(inbox_mark(inbox, bob["id"])).to_have_attribute("data-mark", "waiting")
    expect(inbox_mark(inbox, bob["id"]).locator(".mark")).to_contain_text(
        "this token can still approve or reject"
    )
    expect(inbox_mark(inbox, ana["id"]).locator(".mark")).to_contain_text("Approved by ana")
    inbox.screenshot(path=output_dir / "screenshots" / "inbox-two-reviewers.png", full_page=True)
    expect(page.locator('g[data-state="AskAna"]')).to_have_attribute(
        "data-status", "succeeded", timeout=15_000
    )
    expect(page.locator('g[data-state="AskBob"]')).to_have_attribute("data-status", "waiting")
    assert_whole(page)
    shoot(page, output_dir, "picture-two-reviewers-one-decided")

    approval.decide(localstack, True, token=bob["taskToken"], reviewer="bob")
    execution.wait_for_end(localstack, started.arn)
    expect(page.locator("p.status-line")).to_have_attribute(
        "data-status", "SUCCEEDED", timeout=15_000
    )
    expect(inbox_mark(inbox, bob["id"])).to_have_attribute("data-mark", "decided", timeout=20_000)
    for number, reviewer in ((1, "AskAna"), (2, "AskBob")):
        branch = f'g[data-branch="branch {number}"]'
        assert taken(page, branch) == {
            ("(start)", reviewer, "next"),
            (reviewer, "(end)", "next"),
        }
    assert ("BothApproved", "MergeToMaster", "choice") in taken(page)
    rule = page.locator('g.edge-label[data-to="MergeToMaster"] text')
    expect(rule).to_have_text(
        ["$.reviews[0].approved == true", "and $.reviews[1].approved == true"]
    )
    assert_whole(page)  # the rule's label clear of "otherwise"'s among the rest
    shoot(page, output_dir, "picture-two-reviewers")


def test_the_inbox_marks_waiting_decided_spent_and_expired_reviews(
    page, localstack, deployment, live_picture, output_dir
):
    deploy_state_machine(
        localstack,
        QUICK_REVIEW,
        PROJECT_ROOT / "definitions" / "SolveIssueStepFunction.json",
        review_timeout=2,
        review_heartbeat=None,
    )
    waiting = execution.start(localstack)
    decided = execution.start(localstack)
    stopped = execution.start(localstack)
    expired = execution.start(localstack, machine=QUICK_REVIEW)
    ids = {}
    for run in (waiting, decided, stopped, expired):
        ids[run.name] = reviewers_notified(localstack, run.name, 1)[""]["id"]
    comment = "<b>bold</b> & <script>window.pwned = 3</script>"
    review = approval.find_review(localstack, decided.name)
    approval.decide(localstack, True, token=review.token, reviewer="ana", comment=comment)
    client("stepfunctions", localstack).stop_execution(executionArn=stopped.arn)

    page.goto(f"{localstack.inbox_url}/?channel=reviewers")
    expected = [
        (waiting, "waiting"),
        (decided, "decided"),
        (stopped, "spent"),
        (expired, "expired"),
    ]
    for run, mark in expected:
        article = inbox_mark(page, ids[run.name])
        expect(article).to_have_attribute("data-mark", mark, timeout=30_000)
    decided_mark = inbox_mark(page, ids[decided.name]).locator(".mark")
    expect(decided_mark).to_contain_text(f"Approved by ana: {comment}")
    assert decided_mark.locator("b, script").count() == 0
    expect(inbox_mark(page, ids[stopped.name]).locator(".mark")).to_contain_text("stopped")
    expect(inbox_mark(page, ids[expired.name]).locator(".mark")).to_contain_text("States.Timeout")
    expect(page.locator("#marks-checked")).to_contain_text("checked by the kit at")
    assert page.evaluate("window.pwned") is None
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=output_dir / "screenshots" / "inbox-marks.png", full_page=True)
    approval.decide(localstack, False, token=approval.find_review(localstack, waiting.name).token)


LOOPS = {
    "Comment": "A loop, a Map over three items, and a Parallel whose failed branch is caught.",
    "StartAt": "Init",
    "States": {
        "Init": {"Type": "Pass", "Result": {"n": 0, "items": [1, 2, 3]}, "Next": "Count"},
        "Count": {
            "Type": "Pass",
            "Parameters": {"n.$": "States.MathAdd($.n, 1)", "items.$": "$.items"},
            "Next": "Again",
        },
        "Again": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.n", "NumericLessThan": 3, "Next": "Count"}],
            "Default": "Each",
        },
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ResultPath": "$.mapped",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "One",
                "States": {
                    "One": {"Type": "Pass", "Next": "Two"},
                    "Two": {"Type": "Pass", "End": True},
                },
            },
            "Next": "Both",
        },
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Slow",
                    "States": {"Slow": {"Type": "Wait", "Seconds": 30, "End": True}},
                },
                {
                    "StartAt": "Broken",
                    "States": {"Broken": {"Type": "Fail", "Error": "Nope", "Cause": "on purpose"}},
                },
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Done"}],
            "Next": "Done",
        },
        "Done": {"Type": "Succeed"},
    },
}


def test_a_loop_a_map_and_a_caught_branch_say_how_often_and_how_each_went(
    page, localstack, deployment, tmp_path, output_dir
):
    definition = tmp_path / "Loops.json"
    definition.write_text(json.dumps(LOOPS))
    machine = deploy_state_machine(localstack, "PictureLoops", definition)
    arn = client("stepfunctions", localstack).start_execution(stateMachineArn=machine)[
        "executionArn"
    ]
    ended = execution.wait_for_end(localstack, arn)
    assert ended.status == "SUCCEEDED"
    page.goto(graph(localstack, arn, machine="PictureLoops").save(tmp_path / "p.html").as_uri())
    entered = {
        state: page.locator(f'g[data-state="{state}"]').get_attribute("data-entered")
        for state in ("Init", "Count", "Again", "One", "Two", "Slow", "Broken")
    }
    assert entered == {
        "Init": "1",
        "Count": "3",
        "Again": "3",
        "One": "3",
        "Two": "3",
        "Slow": "1",
        "Broken": "1",
    }
    expect(page.locator('g[data-state="Count"]')).to_contain_text("entered 3x")
    loop_back = page.locator('g.arrow[data-from="Again"][data-to="Count"]')
    expect(loop_back).to_have_attribute("data-taken", "2")
    expect(page.locator('g[data-state="Both"]')).to_have_attribute("data-status", "caught")
    expect(page.locator('g[data-state="Slow"]')).to_have_attribute("data-status", "cancelled")
    expect(page.locator('g.arrow[data-from="Both"][data-kind="catch"]')).to_have_attribute(
        "data-taken", "1"
    )
    expect(page.locator('g.arrow[data-from="Both"][data-kind="next"]')).to_have_attribute(
        "data-taken", "0"
    )
    assert_whole(page)
    shoot(page, output_dir, "picture-loop-map-caught")
