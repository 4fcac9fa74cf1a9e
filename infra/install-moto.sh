#!/usr/bin/env bash
# Installs moto's S3-compatible server (PyPI: moto[server]) into a virtual environment at
# .work/venv, for the tests that need a real S3 server on loopback. Idempotent.
exec "$(dirname "$0")/install-python-venv.sh" .work/venv "moto[server]==5.2.5"
