#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder's image (Ubuntu, with
# the network): it installs the grading kit that came in this zip. Made by
# `sfnlab autograder gradescope` (kit {{kit_version}}).
set -euo pipefail
exec bash "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/install-kit.sh"
