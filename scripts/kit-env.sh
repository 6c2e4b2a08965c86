# The kit's own virtualenv (.sfnlab/venv) on PATH: created on first use, brought in line
# with uv.lock when that changes. Needs only Python >= 3.10 and PyPI.
#
#   source scripts/kit-env.sh     in your shell: `sfnlab` and `awslocal` on PATH
#
# Sourcing it changes PATH and the kit's variables (SFNLAB_*, UV_*) and nothing else: it
# sets no shell option, defines no function that outlives it, and returns (never exits)
# when something fails. The scripts set KIT_SYNC_ARGS first: run_tests.sh wants the
# development tools too, everything else the kit alone.

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

_sfnlab_find_kit_python() {
  # The first candidate that really runs and is 3.10 or newer (a pyenv shim may not run).
  local candidate
  for candidate in "${SFNLAB_KIT_PYTHON:-}" python3 python3.13 python3.12 python3.11 python3.10 python; do
    if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 \
        && "$candidate" -c 'import sys, venv; assert sys.version_info >= (3, 10); print(sys.executable)' 2>/dev/null; then
      return 0
    fi
  done
  return 1
}

_sfnlab_bootstrap_uv() {
  # Prints the path of a uv to make the kit's environment with. Quickest: the chosen
  # Python's own pip puts uv in a folder of its own (the virtualenv then needs no pip of
  # its own, which takes seconds to set up); without such a pip, the virtualenv's.
  local kit_python="$1" folder="$SFNLAB_HOME/cache/uv-bootstrap"
  if "$kit_python" -m pip --version >/dev/null 2>&1 \
      && "$kit_python" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target "$folder" "uv==$UV_VERSION" >&2 \
      && [ -x "$folder/bin/uv" ]; then
    echo "$folder/bin/uv"
  elif "$kit_python" -m venv "$KIT_VENV" \
      && "$KIT_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION" >&2; then
    echo "$KIT_VENV/bin/uv"
  else
    return 1
  fi
}

_sfnlab_kit_env() {
  local kit_python wanted uv="$KIT_VENV/bin/uv" stamp="$KIT_VENV/.sfnlab-synced" started=""
  if [ ! -x "$uv" ]; then
    started=$SECONDS
    if ! kit_python="$(_sfnlab_find_kit_python)"; then
      echo "error: the kit needs Python 3.10 or newer with its venv module, and none was found." >&2
      echo "Install one (Debian/Ubuntu: sudo apt install python3 python3-venv), or set SFNLAB_KIT_PYTHON to its path." >&2
      return 1
    fi
    echo "Creating the kit's environment in $KIT_VENV with $kit_python (first use only) ..." >&2
    "$kit_python" -m venv --without-pip "$KIT_VENV" && uv="$(_sfnlab_bootstrap_uv "$kit_python")" \
      || return 1
  fi
  # `uv sync` only when the lock, the project or what is asked of it changed: a no-op
  # sync still costs a tenth of a second on every command.
  wanted="$(cd "$SFNLAB_ROOT" && cat uv.lock pyproject.toml localstack-process-executor/pyproject.toml | cksum) ${KIT_SYNC_ARGS:-}"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    # shellcheck disable=SC2086  # KIT_SYNC_ARGS is a list of options
    (cd "$SFNLAB_ROOT" && "$uv" sync --frozen --quiet --python "$KIT_VENV/bin/python" ${KIT_SYNC_ARGS:-}) \
      || return 1
    printf '%s\n' "$wanted" > "$stamp"
    if [ -n "$started" ]; then
      rm -rf "$SFNLAB_HOME/cache/uv-bootstrap"  # the environment has its own uv now
      echo "✓ Created the kit's environment ($((SECONDS - started)) s)" >&2
    fi
  fi
  case ":$PATH:" in
    *":$KIT_VENV/bin:"*) ;;
    *) export PATH="$KIT_VENV/bin:$PATH" ;;
  esac
}

_sfnlab_kit_env
_sfnlab_status=$?
unset -f _sfnlab_find_kit_python _sfnlab_bootstrap_uv _sfnlab_kit_env
eval "unset _sfnlab_status; return $_sfnlab_status"
