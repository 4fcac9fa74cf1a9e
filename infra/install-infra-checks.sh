#!/usr/bin/env bash
# Installs the validators of infra/ (PyPI) into a virtual environment at .work/infra-venv, for
# test/infra: check-jsonschema, which ships the Compose Specification's JSON schema, and
# kubernetes-validate, which ships the Kubernetes API's schemas; both then work offline.
# PyYAML comes with them. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

CHECK_JSONSCHEMA_VERSION=0.39.0
KUBERNETES_VALIDATE_VERSION=1.37.0
venv=.work/infra-venv
if "$venv/bin/python" - 2>/dev/null <<PYTHON
import sys
from importlib.metadata import version
sys.exit(version("check-jsonschema") != "$CHECK_JSONSCHEMA_VERSION" or version("kubernetes-validate") != "$KUBERNETES_VALIDATE_VERSION")
PYTHON
then
  echo "install-infra-checks: check-jsonschema $CHECK_JSONSCHEMA_VERSION and kubernetes-validate $KUBERNETES_VALIDATE_VERSION already installed in $venv"
  exit 0
fi
python=$(command -v python3.11 || command -v python3)
echo "install-infra-checks: installing check-jsonschema $CHECK_JSONSCHEMA_VERSION and kubernetes-validate $KUBERNETES_VALIDATE_VERSION into $venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "check-jsonschema==$CHECK_JSONSCHEMA_VERSION" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" pyyaml
