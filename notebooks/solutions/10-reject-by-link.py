# Solution to notebook 10's exercise: reject by link, with a scanner in the way
# ruff: noqa: F821  (a cell of its notebook: the names come from the cells above)

third = execution.start(settings)
message = reviewers_message(third.name)
approval_links.preview_links(message)  # the scanner: HEAD and GET on both links
print("after the scanner:", execution.describe(settings, third.arn).waiting_at)
page = approval_links.press_the_button(
    message["links"]["reject"], reviewer="you", comment="Needs a test first"
)
print(page.title)
ended = execution.wait_for_end(settings, third.arn)
print(ended.status, ended.error, "-", ended.cause)
assert (ended.status, ended.error) == ("FAILED", "ReviewRejected")
assert ended.cause == "Rejected by you: Needs a test first"
