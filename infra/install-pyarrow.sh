#!/usr/bin/env bash
# Installs pyarrow (PyPI) into a virtual environment at .work/arrow-venv, for the tests that check
# that Arrow's reference implementation reads the shards this project writes. Idempotent.
exec "$(dirname "$0")/install-python-venv.sh" .work/arrow-venv "pyarrow==26.0.1"
