#!/usr/bin/env bash
# Installs what the test suite needs besides npm packages:
# - from Debian's archive: ecCodes, the reference GRIB2 codec the decoder is checked against
#   (tools, Python bindings, and the C library the decode benchmark compiles against);
#   python3-venv for moto's virtual environment; Java 17 and Maven, which resolve and run the
#   Apache Kafka broker the bus tests talk to; openssl, which makes the certificates of its TLS listener;
#   strace, which watches a folder store sync its folder (test/store/folder-durability.test.ts);
# - from PyPI: moto's S3-compatible server (install-moto.sh), pyarrow, which reads the shards
#   written here as Arrow's reference implementation (install-pyarrow.sh), fastavro, which reads the
#   topics' records as Python consumers do (install-fastavro.sh), prometheus_client, whose parser
#   reads the consumer's /metrics (install-prometheus-client.sh), and the validators of
#   the compose file and the Kubernetes manifests (install-infra-checks.sh);
# - from Debian's archive, taken out of its package: promtool, which checks and unit-tests the
#   alerting rules (install-promtool.sh);
# - from Maven Central: the Kafka broker's jars, once (kafka/fetch-jars.sh);
# - Vulkan on the CPU (Mesa's lavapipe, from backports) for the model's webgpu backend
#   (install-vulkan.sh).
set -euo pipefail
cd "$(dirname "$0")"

packages=(libeccodes-tools python3-eccodes python3-numpy libeccodes-dev python3-venv openjdk-17-jre-headless maven openssl strace)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-test-deps: ${packages[*]} already installed"
else
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  echo "install-test-deps: installing ${missing[*]}"
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

./install-moto.sh
./install-pyarrow.sh
./install-fastavro.sh
./install-prometheus-client.sh
./install-infra-checks.sh
./install-promtool.sh
./kafka/fetch-jars.sh
./install-vulkan.sh
