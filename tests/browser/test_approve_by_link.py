"""Approval by a link, in a real Chromium: the inbox's link opens a page that asks; only
its button decides. A browser (or any client) that only opens the links decides nothing,
and a spent token's link says so."""

from __future__ import annotations

import requests

from sfnlab.testing.waiting import review_waiting
from sfnlab.workflow import approval
from sfnlab.workflow import executions as execution


def waiting_review(settings) -> tuple[execution.Execution, approval.ReviewRequest]:
    started = execution.start(settings)
    return started, review_waiting(settings, started, timeout=60)


def links_of(page, settings, review) -> dict[str, str]:
    page.goto(f"{settings.inbox_url}/?channel=reviewers")
    article = page.locator(f"#request-{review.inbox_id}")
    return {
        decision: article.locator(f'a.approval-link[data-decision="{decision}"]').get_attribute(
            "href"
        )
        for decision in ("approve", "reject")
    }


def test_a_person_opens_the_inbox_link_reads_the_page_and_approves(
    page, localstack, deployment, output_dir
):
    started, review = waiting_review(localstack)
    page.goto(f"{localstack.inbox_url}/?channel=reviewers")
    article = page.locator(f"#request-{review.inbox_id}")
    with page.context.expect_page() as opened:
        article.locator('a.approval-link[data-decision="approve"]').click()
    confirm = opened.value
    confirm.wait_for_load_state()
    heading = confirm.locator("h1").inner_text()
    assert heading == f"Approve branch {review.branch}?"
    assert "Whoever holds this link can decide this review" in confirm.inner_text("body")
    assert "ISSUE-42" in confirm.inner_text("dl")
    confirm.screenshot(path=str(output_dir / "screenshots" / "approve-by-link.png"))
    # Opening the page decided nothing.
    assert execution.describe(localstack, started.arn).waiting_at == "NotifyReviewers"
    confirm.fill('input[name="reviewer"]', "ana")
    confirm.locator("button[type=submit]").click()
    confirm.wait_for_load_state()
    assert confirm.locator("h1").inner_text() == "Approved: the execution goes on"
    assert "Approved by ana" in confirm.inner_text("body")
    assert execution.wait_for_end(localstack, started.arn).status == "SUCCEEDED"


def test_a_spent_tokens_link_says_so_and_has_no_button(page, localstack, deployment):
    started, review = waiting_review(localstack)
    links = links_of(page, localstack, review)
    approval.decide(localstack, True, token=review.token)
    ended = execution.wait_for_end(localstack, started.arn)
    page.goto(links["reject"])
    assert page.locator("h1").inner_text() == "This link can no longer decide"
    assert approval.ended_refusal(ended).message in page.inner_text("body")
    assert page.locator("button").count() == 0


def test_opening_the_links_without_pressing_decides_nothing(page, localstack, deployment):
    started, review = waiting_review(localstack)
    links = links_of(page, localstack, review)
    for link in links.values():  # a browser that opens both, as a previewer with JS would
        page.goto(link)
        page.wait_for_load_state("networkidle")
        assert page.locator("button[type=submit]").count() == 1
        for method in ("HEAD", "OPTIONS"):
            assert requests.request(method, link, timeout=30).status_code in (200, 204)
    current = execution.describe(localstack, started.arn)
    assert (current.status, current.waiting_at) == ("RUNNING", "NotifyReviewers")
