#!/usr/bin/env bash
# Installs moto's S3-compatible server (PyPI: moto[server]) into a virtual environment at
# .work/venv, for the tests that need a real S3 server on loopback. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO_VERSION=5.2.5
venv=.work/venv
if [ -x "$venv/bin/moto_server" ] && "$venv/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
  echo "install-moto: moto $MOTO_VERSION already installed in $venv"
  exit 0
fi
python=$(command -v python3.11 || command -v python3)
echo "install-moto: installing moto[server] $MOTO_VERSION into $venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
