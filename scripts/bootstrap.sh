#!/usr/bin/env bash
# Set up (or refresh) the project's virtual environment in .venv.
#
#   bash scripts/bootstrap.sh          runtime: the package and its dependencies
#   bash scripts/bootstrap.sh --dev    also the test, lint, docs and browser-test tools
#
# Installs are pinned by constraints.txt (torch==2.14.1, torchvision==0.29.1, ...), so a
# resolver never picks another torch. Re-running is cheap: nothing is reinstalled unless
# pyproject.toml or constraints.txt changed.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
for arg in "$@"; do
  case "$arg" in
    --dev) dev=1 ;;
    *) echo "bootstrap.sh: unknown option $arg (expected --dev)" >&2; exit 2 ;;
  esac
done

python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then python=$candidate; break; fi
  done
fi
[ -n "$python" ] || { echo "bootstrap.sh: Python 3.11 not found" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "[bootstrap] creating .venv with $($python --version)"
  "$python" -m venv .venv
fi

extras=""
[ "$dev" = 1 ] && extras="[dev]"
stamp_want=$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"$extras"
stamp_file=.venv/.aurora_xr_stamp
if [ "$(cat "$stamp_file" 2>/dev/null || true)" != "$stamp_want" ]; then
  echo "[bootstrap] installing aurora_xr$extras (pinned by constraints.txt)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check \
    -c constraints.txt -e ".$extras"
  echo "$stamp_want" > "$stamp_file"
else
  echo "[bootstrap] .venv is up to date"
fi

if [ "$dev" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  # The browser test drives JupyterLab in Debian's Chromium through Playwright
  # (never `playwright install`: it downloads a browser build).
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[bootstrap] installing chromium (apt) for the browser test"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "[bootstrap] warning: chromium is missing and cannot be installed here;" \
         "install it (apt-get install chromium) for the browser test" >&2
  fi
fi
