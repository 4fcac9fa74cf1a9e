#!/usr/bin/env bash
# usage: infra/install-python-venv.sh VENV NAME[==VERSION]...
# Installs the PyPI packages into the virtual environment VENV (relative to the repository root),
# made with the machine's Python 3.11 or python3. Idempotent: does nothing when every one is
# installed there (at its version, where one is given).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=$1
shift
if "$venv/bin/python" - "$@" 2>/dev/null <<'PYTHON'
import re, sys
from importlib.metadata import version
pins = [re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^]]*\])?(?:==(.+))?", pin).groups() for pin in sys.argv[1:]]
sys.exit(any(version(name) != wanted and wanted is not None for name, wanted in pins))
PYTHON
then
  echo "install-python-venv: $* already installed in $venv"
  exit 0
fi
python=$(command -v python3.11 || command -v python3) || {
  echo "install-python-venv: no python3 on the PATH to make $venv with: install python3 and its venv module (Debian: apt-get install python3 python3-venv)" >&2
  exit 1
}
echo "install-python-venv: installing $* into $venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "$@"
