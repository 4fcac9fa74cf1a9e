#!/usr/bin/env bash
# Installs what the test suite needs besides npm packages, from Debian's archive:
# ecCodes, the reference GRIB2 codec the decoder is checked against (tools, Python bindings,
# and the C library the decode benchmark compiles against), and Vulkan on the CPU for the model's
# webgpu backend (install-vulkan.sh).
set -euo pipefail

packages=(libeccodes-tools python3-eccodes python3-numpy libeccodes-dev)

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

# The model's webgpu backend on a machine without a GPU: Mesa's lavapipe from backports.
"$(dirname "$0")/install-vulkan.sh"
