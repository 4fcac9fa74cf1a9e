#!/usr/bin/env bash
# Installs prometheus_client (PyPI) into a virtual environment at .work/prom-venv, for the tests
# that read `run`'s /metrics with Prometheus's own parser of the text format. Idempotent.
exec "$(dirname "$0")/install-python-venv.sh" .work/prom-venv "prometheus-client==0.26.0"
