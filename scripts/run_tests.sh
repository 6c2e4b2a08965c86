#!/usr/bin/env bash
# Run the test suite. Tests that need LocalStack start their own embedded one (on a free
# port, with its own state folder), so nothing needs to be running beforehand.
#
#   scripts/run_tests.sh            the whole suite: its groups (pyproject.toml) run in
#                                   parallel, each on one worker with a LocalStack of its own
#   scripts/run_tests.sh --quick    only the tests that need no LocalStack and no browser
#
# Extra arguments go to pytest, e.g. `scripts/run_tests.sh tests/unit -x`, `-n 4` for four
# workers, `-n 0` for one process. docs/contributing.md says more.
set -euo pipefail
quick=""
if [ "${1:-}" = "--quick" ]; then
  quick=1
  shift
fi
KIT_SYNC_ARGS=""  # the kit and its development tools (pytest, ruff, ...)
source "$(dirname "${BASH_SOURCE[0]}")/kit-env.sh"
cd "$SFNLAB_ROOT"

if [ -n "$quick" ]; then
  exec pytest -n 2 tests/unit "$@"  # two workers, each test to the first one free
fi

# The browser tests drive Debian's Chromium (no browser is downloaded). As root on Debian
# (CI) it is installed on first use; elsewhere those tests say how to get it, and skip.
if ! command -v chromium >/dev/null 2>&1 && [ -z "${SFNLAB_CHROMIUM:-}" ] \
    && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests (first run only) ..." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# The grader runs learners' code inside bubblewrap; installed the same way, its tests
# skip, saying so, where it is missing.
if ! command -v bwrap >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's bubblewrap for the grader's tests (first run only) ..." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
fi
# Groups in the order pyproject.toml lists them (longest first), each kept on one worker.
# Four workers on two cores: the run is bound by CPU, and while one group waits (on a
# timeout it tests, say) another's work fills the core (docs/contributing.md).
exec pytest -n 4 --dist loadgroup --no-loadscope-reorder "$@"
