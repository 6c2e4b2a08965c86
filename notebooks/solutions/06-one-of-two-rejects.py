# Solution to notebook 06's exercise: one of two rejects.
# ruff: noqa: F821  (a cell of its notebook: the names come from the cells above)
started = sfn.start_execution(stateMachineArn=two_reviewers, input="{}")
first, second = reviews_of(started["executionArn"].rsplit(":", 1)[1])
approval.decide(settings, True, token=first.token)
approval.decide(settings, False, token=second.token)
ended = execution.wait_for_end(settings, started["executionArn"])
print(ended.status, "-", ended.error)
# Both branches finish before the Parallel state does; the Choice then sees one
# "approved": false and takes its Default way, to the Fail state.
assert (ended.status, ended.error) == ("FAILED", "ReviewRejected")
