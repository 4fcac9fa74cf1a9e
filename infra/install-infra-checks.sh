#!/usr/bin/env bash
# Installs the validators of infra/ (PyPI) into a virtual environment at .work/infra-venv, for
# test/infra: check-jsonschema, which ships the Compose Specification's JSON schema, and
# kubernetes-validate, which ships the Kubernetes API's schemas; both then work offline.
# PyYAML comes with them. Idempotent.
exec "$(dirname "$0")/install-python-venv.sh" .work/infra-venv "check-jsonschema==0.39.0" "kubernetes-validate==1.37.0" pyyaml
