# Sourced by the other scripts: make sure the kit's own virtualenv (.sfnlab/venv) exists
# and matches uv.lock, creating it on first use. Needs only Python >= 3.10 and PyPI.

set -euo pipefail

SFNLAB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SFNLAB_HOME="${SFNLAB_HOME:-$SFNLAB_ROOT/.sfnlab}"
KIT_VENV="$SFNLAB_HOME/venv"
UV_VERSION="0.13.9"  # the uv that installs the kit; tests/unit/test_locks.py keeps it in step with uv.lock

# uv: never download an interpreter, keep its cache inside the kit's folder.
export UV_PYTHON_DOWNLOADS=never
export UV_PROJECT_ENVIRONMENT="$KIT_VENV"
export UV_CACHE_DIR="${UV_CACHE_DIR:-$SFNLAB_HOME/cache/uv}"
# awslocal (awscli-local 0.23) otherwise prints a deprecation banner before every command.
export DISABLE_DEPRECATION_NOTICE=1

find_kit_python() {
  # The first candidate that really runs and is 3.10 or newer (a pyenv shim may not run).
  local candidate
  for candidate in "${SFNLAB_KIT_PYTHON:-}" python3 python3.13 python3.12 python3.11 python3.10 python; do
    [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 || continue
    "$candidate" -c 'import sys, venv; assert sys.version_info >= (3, 10); print(sys.executable)' 2>/dev/null && return 0
  done
  return 1
}

if [ ! -x "$KIT_VENV/bin/uv" ]; then
  if ! kit_python="$(find_kit_python)"; then
    echo "error: the kit needs Python 3.10 or newer with its venv module, and none was found." >&2
    echo "Install one (Debian/Ubuntu: sudo apt install python3 python3-venv), or set SFNLAB_KIT_PYTHON to its path." >&2
    exit 1
  fi
  echo "Creating the kit's environment in $KIT_VENV with $kit_python (first use only) ..." >&2
  "$kit_python" -m venv "$KIT_VENV"
  "$KIT_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
(cd "$SFNLAB_ROOT" && "$KIT_VENV/bin/uv" sync --frozen --quiet --python "$KIT_VENV/bin/python")
export PATH="$KIT_VENV/bin:$PATH"
