#!/usr/bin/env bash
# Installs fastavro (PyPI) into a virtual environment at .work/avro-venv, for the tests that check
# that an Avro implementation other than avsc reads the records this project writes. Idempotent.
exec "$(dirname "$0")/install-python-venv.sh" .work/avro-venv "fastavro==1.13.1"
