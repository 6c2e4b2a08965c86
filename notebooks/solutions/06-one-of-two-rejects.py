# Solution to notebook 06's exercise: one of two rejects.
# ruff: noqa: F821  (a cell of its notebook: the names come from the cells above)
started = executions.start(settings, machine=TWO_REVIEWERS_MACHINE)
executions.wait_for_reviews(settings, started.arn, count=2)
_, (first, second) = approval.waiting_tokens(settings, started.name)
approval.decide(settings, True, token=first.token, reviewer=first.reviewer)
approval.decide(settings, False, token=second.token, reviewer=second.reviewer)
ended = executions.wait_for_end(settings, started.arn)
print(ended.status, "-", ended.error)
# Both branches finish before the Parallel state does; the Choice then sees one
# "approved": false and takes its Default way, to the Fail state.
assert (ended.status, ended.error) == ("FAILED", "ReviewRejected")
