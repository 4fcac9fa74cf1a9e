#!/usr/bin/env bash
# Installs promtool, Prometheus's own checker of rule files, at .work/promtool/promtool, for the tests
# of infra/prometheus/alerts.yaml (`promtool check rules`, `promtool test rules`). It is taken out of
# Debian's prometheus package (2.42) rather than installed with it: installing the package would
# also install and start a Prometheus server, which the tests do not need. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

target=.work/promtool
if [ -x "$target/promtool" ]; then
  echo "install-promtool: $("$target/promtool" --version 2>&1 | head -1) already at $target"
  exit 0
fi
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || {
  echo "install-promtool: needs apt-get and dpkg-deb (Debian's prometheus package holds promtool); elsewhere put promtool at $target/promtool" >&2
  exit 1
}

download=$(mktemp -d)
trap 'rm -rf "$download"' EXIT
if ! (cd "$download" && apt-get download -qq prometheus 2>/dev/null); then
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  "${as_root[@]}" apt-get update -qq
  (cd "$download" && apt-get download -qq prometheus)
fi
dpkg-deb --fsys-tarfile "$download"/prometheus_*.deb | tar -x -C "$download" ./usr/bin/promtool
mkdir -p "$target"
mv "$download/usr/bin/promtool" "$target/promtool"
echo "install-promtool: $("$target/promtool" --version 2>&1 | head -1) at $target"
