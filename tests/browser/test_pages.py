"""What a learner sees in a browser: the workflow picture and the inbox page."""

from __future__ import annotations

import requests
from playwright.sync_api import expect

from sfnlab.testing.waiting import review_waiting
from sfnlab.workflow import approval
from sfnlab.workflow import executions as execution
from sfnlab.workflow.graph import graph


def test_execution_picture_shows_each_state_as_it_went(
    page, localstack, deployment, tmp_path, output_dir
):
    started = execution.start(localstack)
    review = review_waiting(localstack, started)
    waiting = graph(localstack, started.arn).save(tmp_path / "waiting.html")
    page.goto(waiting.as_uri())
    expect(page.get_by_text(f"SolveIssue: {started.name} RUNNING")).to_be_visible()
    review_state = page.locator('g[data-state="NotifyReviewers"]')
    expect(review_state).to_be_visible()
    expect(review_state).to_have_attribute("data-status", "waiting")
    expect(page.locator('g[data-state="MergeToMaster"]')).to_have_attribute(
        "data-status", "not reached"
    )
    page.screenshot(path=output_dir / "screenshots" / "execution-waiting.png", full_page=True)

    approval.decide(localstack, True, token=review.token)
    execution.wait_for_end(localstack, started.arn)
    ended = graph(localstack, started.arn).save(tmp_path / "ended.html")
    page.goto(ended.as_uri())
    expect(page.get_by_text(f"SolveIssue: {started.name} SUCCEEDED")).to_be_visible()
    for state in ("CreateCode", "NotifyReviewers", "MergeToMaster", "NotifyOps", "IssueSolved"):
        expect(page.locator(f'g[data-state="{state}"]')).to_have_attribute(
            "data-status", "succeeded"
        )
    expect(page.locator('g[data-state="ReviewRejected"]')).to_have_attribute(
        "data-status", "not reached"
    )
    page.screenshot(path=output_dir / "screenshots" / "execution-succeeded.png", full_page=True)


def test_inbox_page_shows_the_notification_escaped_and_updates_itself(
    page, localstack, deployment, output_dir
):
    branch = "<b>feature/bold-move</b>"
    started = execution.start(localstack, {"issue": {"id": "ISSUE-5"}, "branch": branch})
    review = approval.find_review(localstack, started.name, wait=True)
    page.goto(f"{localstack.inbox_url}/?channel=reviewers")
    notification = page.locator("article.request").filter(has_text=started.name).first
    expect(notification).to_be_visible()
    expect(notification).to_contain_text(f"Please review branch {branch}")  # shown as text
    assert notification.locator("b").count() == 0  # and never as markup
    expect(notification.locator("input.task-token")).to_have_value(review.token)
    notification.get_by_role("button", name="Copy token").click()
    expect(notification.get_by_role("button", name="Copied")).to_be_visible()
    page.screenshot(path=output_dir / "screenshots" / "inbox-reviewers.png", full_page=True)

    # A new notification appears without reloading the page.
    requests.post(
        f"{localstack.inbox_url}/reviewers",
        json={
            "subject": "Please review branch feature/late-arrival",
            "taskToken": "t-0000000000000000",
        },
        timeout=5,
    )
    expect(page.get_by_text("Please review branch feature/late-arrival", exact=True)).to_be_visible(
        timeout=5000
    )
    approval.decide(localstack, False, token=review.token)
