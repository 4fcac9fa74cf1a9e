#!/usr/bin/env bash
# Installs a Vulkan driver that runs on the CPU (Mesa's lavapipe) and the Vulkan loader, so the
# model's webgpu backend (Dawn, npm `webgpu`) runs where there is no GPU, as in CI.
# Debian 12's own mesa-vulkan-drivers (22.3) is too old for Dawn; bookworm-backports' (25) works.
# The backports suite is added from the machine's own Debian source (same mirror, same key), so
# no host name is written here. Idempotent: returns at once when a new enough driver is there.
set -euo pipefail

minimum_mesa=25
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)

installed_version() {
  { dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null || true; } | sed -n 's/^install ok installed //p'
}

mesa=$(installed_version mesa-vulkan-drivers)
if [ -n "$(installed_version libvulkan1)" ] && [ -n "$mesa" ] && dpkg --compare-versions "$mesa" ge "$minimum_mesa"; then
  echo "install-vulkan: mesa-vulkan-drivers $mesa and libvulkan1 already installed"
  exit 0
fi

. /etc/os-release
if [ "${ID:-}" != debian ] || [ -z "${VERSION_CODENAME:-}" ]; then
  echo "install-vulkan: not Debian (ID=${ID:-?}); install Mesa >= $minimum_mesa's lavapipe and libvulkan1 yourself" >&2
  exit 1
fi
backports="$VERSION_CODENAME-backports"

# The mirror and key that serve "$VERSION_CODENAME main", from a deb822 .sources file or a
# one-line sources.list entry.
find_deb822_source() {
  local file
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    awk -v suite="$VERSION_CODENAME" '
      function flush() { if (found && uris != "") { print uris "\t" key; done = 1; exit } found = 0; uris = ""; key = "" }
      /^[[:space:]]*$/ { flush(); next }
      /^URIs:/ { uris = $2 }
      /^Signed-By:/ { key = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) found = 1 }
      END { if (!done) flush() }
    ' "$file"
  done | head -n 1
}
find_one_line_source() {
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk -v suite="$VERSION_CODENAME" '$1 == "deb" { for (i = 2; i < NF; i++) if ($i !~ /^\[/ && $(i + 1) == suite) { print $i "\t"; exit } }'
}

if ! grep -rqs -- "$backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  source_line=$(find_deb822_source)
  [ -n "$source_line" ] || source_line=$(find_one_line_source)
  if [ -z "$source_line" ]; then
    echo "install-vulkan: no apt source serves $VERSION_CODENAME; add $backports by hand" >&2
    exit 1
  fi
  uri=${source_line%%$'\t'*}
  key=${source_line#*$'\t'}
  echo "install-vulkan: adding $backports from $uri"
  {
    echo "Types: deb"
    echo "URIs: $uri"
    echo "Suites: $backports"
    echo "Components: main"
    [ -z "$key" ] || echo "Signed-By: $key"
  } | "${as_root[@]}" tee /etc/apt/sources.list.d/hrrr-embed-backports.sources >/dev/null
fi

echo "install-vulkan: installing mesa-vulkan-drivers and libvulkan1 from $backports"
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends \
  -t "$backports" mesa-vulkan-drivers libvulkan1 >/dev/null
echo "install-vulkan: mesa-vulkan-drivers $(installed_version mesa-vulkan-drivers)"
