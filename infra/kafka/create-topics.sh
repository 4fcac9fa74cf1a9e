#!/usr/bin/env bash
# Creates hrrr-embed's topics with their partition counts, if they do not exist: run once per
# cluster, in the Kafka image (compose's `topics` service, the Kubernetes Job in k8s/). Partitions
# bound how many consumers share the work: the events topic's count is the consumer's most replicas.
set -euo pipefail
bootstrap=${BOOTSTRAP_SERVERS:?BOOTSTRAP_SERVERS is not set}
prefix=${TOPIC_PREFIX:-}
replication=${REPLICATION_FACTOR:-3}
topics=${KAFKA_TOPICS_SH:-/opt/kafka/bin/kafka-topics.sh}

create() { # name partitions [key=value...]
  local name=$prefix$1 partitions=$2 configs=()
  shift 2
  for setting in "$@"; do configs+=(--config "$setting"); done
  "$topics" --bootstrap-server "$bootstrap" --create --if-not-exists --topic "$name" \
    --partitions "$partitions" --replication-factor "$replication" "${configs[@]}"
  echo "create-topics: $name ($partitions partitions)"
}

# Keyed by field and valid time: an analysis's records stay on one partition, in order.
create embeddings 6
create alerts 3
create dead-letters 3
# One record per model version, read back whole: compaction keeps the latest of each key.
create model-versions 1 cleanup.policy=compact
# Read by one trainer at a time (it holds the model store's lease).
create retrain-requests 1
# Object-created events (S3 notifications) the consumers share with --events: at most 6 consumers.
create hrrr-objects 6
