#!/usr/bin/env bash
# Run the test suite. Tests that need LocalStack start their own embedded one (on a free
# port, with its own state folder), so nothing needs to be running beforehand.
# Extra arguments go to pytest, e.g. `scripts/run_tests.sh tests/unit -x`.
set -euo pipefail
KIT_SYNC_ARGS=""  # the kit and its development tools (pytest, ruff, ...)
source "$(dirname "${BASH_SOURCE[0]}")/kit-env.sh"
cd "$SFNLAB_ROOT"

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
exec pytest "$@"
