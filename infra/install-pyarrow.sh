#!/usr/bin/env bash
# Installs pyarrow (PyPI) into a virtual environment at .work/arrow-venv, for the tests that check
# that Arrow's reference implementation reads the shards this project writes. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

PYARROW_VERSION=26.0.1
venv=.work/arrow-venv
if "$venv/bin/python" -c "import pyarrow, sys; sys.exit(pyarrow.__version__ != '$PYARROW_VERSION')" 2>/dev/null; then
  echo "install-pyarrow: pyarrow $PYARROW_VERSION already installed in $venv"
  exit 0
fi
python=$(command -v python3.11 || command -v python3)
echo "install-pyarrow: installing pyarrow $PYARROW_VERSION into $venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "pyarrow==$PYARROW_VERSION"
