# Solution to notebook 02's exercise: your own issue.
# ruff: noqa: F821  (a cell of its notebook: the names come from the cells above)
event = {"issue": {"id": "ISSUE-7", "title": "Cart total is wrong", "author": "you"}}
arn = sfn.start_execution(stateMachineArn=machine_arn, input=json.dumps(event))["executionArn"]
execution.wait(settings, arn, lambda e: e.waiting_at is not None, what="the review")

# CreateBranch added `branch` to the payload; NotifyReviewers told the reviewers its name.
branch = next(r.branch for r in approval.review_requests(settings) if r.execution_arn == arn)
print(branch)
assert branch == "feature/ISSUE-7-cart-total-is-wrong"

sfn.stop_execution(executionArn=arn, cause="Exercise done")  # tidy up
