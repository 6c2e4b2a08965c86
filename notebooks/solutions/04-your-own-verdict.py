# Solution to notebook 04's exercise: your own verdict.
# ruff: noqa: F821  (a cell of its notebook: the names come from the cells above)
started, review = start_and_wait_for_review()
approval.decide(settings, False, token=review.token, reviewer="carol", comment="Needs a test")
ended = executions.wait_for_end(settings, started.arn)
print(ended.status, "-", ended.cause)
assert (ended.status, ended.cause) == ("FAILED", "Rejected by carol: Needs a test")
