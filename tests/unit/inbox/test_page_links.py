"""The reviewers' approval links on the inbox page: only http(s) links, escaped, no Referer."""

from __future__ import annotations

from sfnlab.inbox.page import render_links


def test_both_links_are_shown_escaped_and_sent_on_without_a_referer():
    html = render_links(
        {
            "approve": 'http://127.0.0.1:4566/review?decision=approve&token=a"b<c>',
            "reject": "https://x.example/review?decision=reject&token=t",
        }
    )
    assert (
        'href="http://127.0.0.1:4566/review?decision=approve&amp;token=a&quot;b&lt;c&gt;"' in html
    )
    assert html.count('rel="noreferrer noopener"') == 2
    assert ">Approve</a>" in html and ">Reject</a>" in html
    assert "whoever holds a link can decide" in html


def test_a_link_that_is_not_http_or_another_key_is_left_out():
    html = render_links(
        {
            "approve": "javascript:alert(1)",
            "reject": "data:text/html,<script>alert(1)</script>",
            "<b>merge</b>": "http://127.0.0.1/review",
        }
    )
    assert html == ""
    assert render_links({"approve": 42}) == ""
