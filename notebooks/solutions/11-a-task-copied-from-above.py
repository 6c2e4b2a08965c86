# Solution to notebook 11's exercise: a Task copied from the one above
# ruff: noqa: F821  (a cell of its notebook: the names come from the cells above)

tested = test_state(
    settings, "NotifyReviewers", definition=copied, input=branched, mock_result=approved
)
print(tested.step_names())
print(tested.text("result", "afterResultPath"))
print(tested.status, tested.error, "-", tested.cause)
# Every step is right up to After ResultPath: the input, and the decision under `review`.
# Then OutputPath $.Payload finds nothing: "Invalid path '$.Payload'". A .waitForTaskToken
# Task's result is what SendTaskSuccess sent (the decision), not Lambda's Invoke response,
# so there is no Payload to pick; and ResultPath has already put the result in its place.
# The state's output should be the whole of it: no OutputPath (or "$").
del copied["States"]["NotifyReviewers"]["OutputPath"]
tested = test_state(
    settings, "NotifyReviewers", definition=copied, input=branched, mock_result=approved
)
chosen = test_state(settings, "ReviewDecision", definition=copied, input=tested.output)
print(tested.status, "->", tested.next_state, "->", chosen.next_state)
assert tested.output == {**branched, "review": approved}
assert chosen.next_state == "MergeToMaster"
