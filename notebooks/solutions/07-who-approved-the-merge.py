# Solution to notebook 07's exercise: who approved the merge?
# ruff: noqa: F821  (a cell of its notebook: the names come from the cells above)
# `$review` is the variable NotifyReviewers assigned; `$merge` adds one field to the
# payload the Lambda already got. In JSONPath, `Parameters` would have to name every field
# of the payload again ("issue.$": "$.issue", ...) next to "approvedBy.$": "$.review.reviewer".
import copy

mine = copy.deepcopy(jsonata)
mine["States"]["MergeToMaster"]["Arguments"]["Payload"] = (
    "{% $merge([$states.input, {'approvedBy': $review.reviewer}]) %}"
)
check_approved_by(settings, mine)
