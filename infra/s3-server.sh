#!/usr/bin/env bash
# Starts moto's S3-compatible server on loopback, in the foreground: infra/s3-server.sh PORT.
# Anything that speaks S3 (the AWS SDK, the aws CLI) reaches it at http://127.0.0.1:PORT with
# any credentials. The data lives in memory and is gone when the process ends.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${1:?usage: infra/s3-server.sh PORT}
[ -x .work/venv/bin/moto_server ] || infra/install-moto.sh >&2
exec .work/venv/bin/moto_server --host 127.0.0.1 --port "$port"
