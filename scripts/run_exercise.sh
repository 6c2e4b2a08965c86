#!/usr/bin/env bash
# Run the exercise end to end and watch it happen: LocalStack and the inbox come up, the
# SolveIssue state machine and its Lambdas are deployed, an execution starts, waits for
# the review, is approved with its task token, and ends. `--reject` takes the other path.
# The exit status is 0 when the execution ends as the chosen path expects.
source "$(dirname "${BASH_SOURCE[0]}")/kit-env.sh"
cd "$SFNLAB_ROOT"
status=0
sfnlab exercise "$@" || status=$?
echo "LocalStack and the inbox keep running (inbox: ${SFNLAB_INBOX_URL:-http://127.0.0.1:4567}/); stop them with: .sfnlab/venv/bin/sfnlab down"
exit $status
