#!/usr/bin/env bash
# Prints alerts.yaml wrapped in a PrometheusRule for the Prometheus Operator: its spec is the rule
# file's groups, unchanged. Arguments KEY=VALUE are the manifest's labels (the ones the Prometheus
# resource's ruleSelector picks, e.g. release=prometheus):
#   infra/prometheus/prometheus-rule.sh release=prometheus | kubectl apply -n monitoring -f -
set -euo pipefail
rules="$(dirname "$0")/alerts.yaml"
for label in "$@"; do
  [[ "$label" =~ ^[A-Za-z0-9./_-]+=[A-Za-z0-9._-]*$ ]] || { echo "prometheus-rule: a label is KEY=VALUE, not '$label'" >&2; exit 2; }
done

echo 'apiVersion: monitoring.coreos.com/v1'
echo 'kind: PrometheusRule'
echo 'metadata:'
echo '  name: hrrr-embed'
echo '  labels:'
echo '    app.kubernetes.io/name: hrrr-embed'
for label in "$@"; do
  echo "    ${label%%=*}: \"${label#*=}\""
done
echo 'spec:'
sed -e '/^#/d' -e 's/^/  /' "$rules"
