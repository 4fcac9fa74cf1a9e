"""Reads a Prometheus text exposition (version 0.0.4) from stdin with prometheus_client's parser, the
one Prometheus's Python tooling uses: prints as JSON each metric family (name, type, help, and its
samples with their labels and values, +Inf as the string "+Inf"). A text the parser refuses exits 1
with its error on stderr."""
import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families


def number(value):
    return "+Inf" if value == math.inf else value


try:
    families = [
        {
            "name": family.name,
            "type": family.type,
            "help": family.documentation,
            "samples": [{"name": sample.name, "labels": sample.labels, "value": number(sample.value)} for sample in family.samples],
        }
        for family in text_string_to_metric_families(sys.stdin.read())
    ]
except Exception as error:
    print(f"not a valid exposition: {error!r}", file=sys.stderr)
    sys.exit(1)
json.dump(families, sys.stdout)
