#!/usr/bin/env bash
# Bring LocalStack up (the embedded one unless one already answers) and prove it runs
# Lambdas: deploy a hello-world function and invoke it.
source "$(dirname "${BASH_SOURCE[0]}")/kit-env.sh"
cd "$SFNLAB_ROOT"
sfnlab up
sfnlab smoke
echo "LocalStack keeps running; stop it with: .sfnlab/venv/bin/sfnlab down"
