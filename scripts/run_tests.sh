#!/usr/bin/env bash
# Run the test suite. Tests that need LocalStack start their own embedded one (on a free
# port, with its own state folder), so nothing needs to be running beforehand.
# Extra arguments go to pytest, e.g. `scripts/run_tests.sh tests/unit -x`.
source "$(dirname "${BASH_SOURCE[0]}")/kit-env.sh"
cd "$SFNLAB_ROOT"
exec pytest "$@"
