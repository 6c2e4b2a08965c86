#!/usr/bin/env bash
# Installs the grading kit (kit/ beside this file) into a grading image, as root: what
# Gradescope's setup.sh and the PrairieLearn image's Dockerfile run while the image is
# built, with the network. Grading itself then needs none.
#
#   - bubblewrap and a Python for the kit (the system's package manager, if missing);
#   - the kit's own environment from its lock (uv.lock), without development tools;
#   - the embedded LocalStack's environment from its lock
#     (requirements/localstack-runtime.txt), on a Python 3.13 or 3.12: the image's own,
#     or one uv installs into the kit's folder where the image has none;
#   - byte code compiled at install, so that each submission's cold start does not
#     (UV_COMPILE_BYTECODE=0 in the environment leaves it to the first start).
#
# Everything lands below the kit's folder, readable by every user: the graded code runs
# as a user of its own where bubblewrap cannot run (see docs/grading/gradescope.md).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kit="${SFNLAB_KIT:-$here/kit}"

missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv python3-pip)
command -v git >/dev/null 2>&1 || missing+=(git)
if [ "${#missing[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-kit.sh: install ${missing[*]} with this image's package manager first." >&2
    exit 1
  fi
  echo "Installing ${missing[*]} ..." >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" ca-certificates >/dev/null
  rm -rf /var/lib/apt/lists/*
fi

export UV_COMPILE_BYTECODE="${UV_COMPILE_BYTECODE:-1}"
export KIT_SYNC_ARGS="--no-dev"
# shellcheck source=/dev/null
source "$kit/scripts/kit-env.sh"

# LocalStack 4.14 runs on Python 3.13 or 3.12. Ubuntu 24.04 has 3.12; where the image has
# neither (Ubuntu 22.04, Gradescope's default), uv installs 3.13 into the kit's folder.
found=""
for candidate in "${SFNLAB_PYTHON:-}" python3.13 python3.12; do
  if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 \
      && "$candidate" -c 'import sys; assert sys.version_info[:2] in ((3, 12), (3, 13))' 2>/dev/null; then
    found="$(command -v "$candidate")"
    break
  fi
done
if [ -z "$found" ]; then
  echo "Installing Python 3.13 for LocalStack (the image has no 3.12 or 3.13) ..." >&2
  UV_PYTHON_DOWNLOADS=automatic uv python install --quiet --install-dir "$kit/.sfnlab/python" 3.13
  found="$(UV_PYTHON_INSTALL_DIR="$kit/.sfnlab/python" uv python find --managed-python --no-project 3.13)"
fi
SFNLAB_PYTHON="$found" sfnlab autograder prepare
rm -rf "$kit/.sfnlab/cache"  # uv's downloads (the environments hold their own files)
chmod -R a+rX "$kit"
