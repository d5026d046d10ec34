# Shared by scripts/lab and scripts/test: find Python >= 3.11, make .venv, install wfnb.
# Usage: source scripts/_setup.sh EXTRAS   (e.g. "all" or "dev")
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

find_python() {
  for cand in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$cand" ] || continue
    if command -v "$cand" >/dev/null 2>&1 &&
       "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      command -v "$cand"; return 0
    fi
  done
  echo "wfnb needs Python >= 3.11 (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

setup_venv() {
  local extras="$1"
  local py; py="$(find_python)"
  if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating $VENV with $py"
    "$py" -m venv "$VENV"
  fi
  # Reinstall only when the package's metadata or the extras changed.
  local stamp="$VENV/.wfnb-installed-$extras"
  local want; want="$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
  # dev includes all: a venv set up for the tests already serves the lab.
  if [ "$extras" = all ] && [ -f "$VENV/.wfnb-installed-dev" ] && [ "$(cat "$VENV/.wfnb-installed-dev")" = "$want" ]; then
    stamp="$VENV/.wfnb-installed-dev"
  fi
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "==> installing wfnb[$extras] into $VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT[$extras]" 2>&1 \
      | grep -v '^WARNING: Location' || true
    "$VENV/bin/python" -c 'import wfnb' || { echo "install of wfnb[$extras] failed" >&2; return 1; }
    echo "$want" > "$stamp"
  fi
  export PATH="$VENV/bin:$PATH"
  # Jupyter's platformdirs migration warning would be an error under filterwarnings=error.
  export JUPYTER_PLATFORM_DIRS=1
}
