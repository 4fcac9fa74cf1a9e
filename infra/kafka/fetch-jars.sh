#!/usr/bin/env bash
# Resolves the test broker's jars (pom.xml beside this script) into .work/kafka/libs, once: a stamp
# holding the pom's checksum makes later runs free, and a changed pom fetches again.
# --strict-checksums: a jar whose SHA-1 from Maven Central does not match is refused, not warned about.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
pom="$root/infra/kafka/pom.xml"
libs="$root/.work/kafka/libs"
stamp="$libs/.pom.sha256"
sum="$(sha256sum "$pom" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then
  exit 0
fi
echo "kafka: resolving the broker's jars into .work/kafka/libs"
rm -rf "$libs"
mkdir -p "$libs"
mvn -q -B --strict-checksums -f "$pom" dependency:copy-dependencies -DoutputDirectory="$libs" -DincludeScope=runtime
echo "$sum" > "$stamp"
