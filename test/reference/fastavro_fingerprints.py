"""Prints, as one JSON object, the SHA-256 (hex) of each .avsc file named in argv[1:] over its
Parsing Canonical Form as fastavro computes it: the fingerprint a Python consumer would compare
with a record's avro.*.schema-sha256 header to pick the writer schema."""
import hashlib
import json
import sys

from fastavro.schema import to_parsing_canonical_form

fingerprints = {}
for path in sys.argv[1:]:
    with open(path) as file:
        canonical = to_parsing_canonical_form(json.load(file))
    fingerprints[path] = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
print(json.dumps(fingerprints))
