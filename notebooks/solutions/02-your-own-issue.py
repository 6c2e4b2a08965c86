# Solution to notebook 02's exercise: your own issue.
# ruff: noqa: F821  (a cell of its notebook: the names come from the cells above)
from sfnlab.workflow import approval

event = {"issue": {"id": "ISSUE-7", "title": "Cart total is wrong", "author": "you"}}
arn = sfn.start_execution(
    stateMachineArn=machine_arn, name=f"solve-{time.strftime('%H%M%S')}-7", input=json.dumps(event)
)["executionArn"]
executions.wait_for_reviews(settings, arn)

# CreateBranch added `branch` to the payload; NotifyReviewers told the reviewers its name.
branch = next(r.branch for r in approval.review_requests(settings) if r.execution_arn == arn)
print(branch)
assert branch == "feature/ISSUE-7-cart-total-is-wrong"

sfn.stop_execution(executionArn=arn, cause="Exercise done")  # tidy up
