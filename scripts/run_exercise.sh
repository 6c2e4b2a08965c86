#!/usr/bin/env bash
# Run the exercise end to end and watch it happen: LocalStack and the inbox come up, the
# SolveIssue state machine and its Lambdas are deployed, an execution starts, waits for
# the review, is approved with its task token, and ends. `--reject` takes the other path.
# `--javascript` runs it with the kit's JavaScript Lambdas (lambdas-js/, on Node.js 20 or
# newer), the same state machine. The exit status is 0 when the execution ends as the
# chosen path expects.
set -uo pipefail
arguments=()
for argument in "$@"; do
  if [ "$argument" = "--javascript" ]; then
    arguments+=(--language javascript)
  else
    arguments+=("$argument")
  fi
done
KIT_SYNC_ARGS="--no-dev --inexact"  # the kit alone; keeps the test tools if they are there
source "$(dirname "${BASH_SOURCE[0]}")/kit-env.sh" || exit 1
cd "$SFNLAB_ROOT" || exit 1
status=0
# (bash 3.2, macOS: an empty array is "unbound" under set -u unless expanded so)
sfnlab exercise ${arguments[@]+"${arguments[@]}"} || status=$?
# Only when they do: a run that failed early (a port in use, say) started nothing.
if sfnlab status >/dev/null 2>&1; then
  echo "LocalStack and the inbox keep running; stop them with: .sfnlab/venv/bin/sfnlab down" >&2
fi
exit $status
