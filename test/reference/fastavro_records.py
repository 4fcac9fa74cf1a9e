"""Reads Avro bodies with fastavro, another implementation than the avsc that wrote them, the way a
Python consumer would: argv[1] is a JSON list of {"path", "writer", "reader"} (paths of .avsc files;
"reader" may be null); prints as JSON, for each, the record read or the error fastavro raised.
Strings are decoded strictly as UTF-8, as fastavro does by default; timestamp-millis are printed
as milliseconds since the epoch."""
import datetime
import io
import json
import sys

from fastavro import parse_schema, schemaless_reader


def schema(path):
    with open(path) as file:
        return parse_schema(json.load(file))


def plain(value):
    if isinstance(value, datetime.datetime):
        return round(value.timestamp() * 1000)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


results = []
for item in json.loads(sys.argv[1]):
    with open(item["path"], "rb") as file:
        body = file.read()
    stream = io.BytesIO(body)
    try:
        reader = schema(item["reader"]) if item.get("reader") else None
        value = schemaless_reader(stream, schema(item["writer"]), reader)
        results.append({"value": plain(value), "unread": len(body) - stream.tell()})
    except Exception as error:  # the test shows what fastavro said
        results.append({"error": f"{type(error).__name__}: {error}"})
print(json.dumps(results, allow_nan=True))
