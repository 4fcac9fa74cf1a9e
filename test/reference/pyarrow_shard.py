"""Reads a shard's Arrow IPC file with pyarrow, Arrow's reference implementation, and prints as JSON
what the test compares with the writer's rows: the schema's metadata, the column types, and per
row its valid time (ms), source and the SHA-256 of its values' bytes."""
import hashlib
import json
import sys

import pyarrow as pa
import pyarrow.ipc as ipc

table = ipc.open_file(sys.argv[1]).read_all()
values = table.column("values").combine_chunks()
size = values.type.list_size
flat = values.flatten()
itemsize = flat.type.bit_width // 8
data = memoryview(flat.buffers()[1])


def row_hash(i):
    start = (flat.offset + i * size) * itemsize
    return hashlib.sha256(data[start : start + size * itemsize]).hexdigest()


print(json.dumps({
    "metadata": {key.decode(): value.decode() for key, value in table.schema.metadata.items()},
    "types": {field.name: str(field.type) for field in table.schema},
    "validTimes": table.column("validTime").cast(pa.int64()).to_pylist(),
    "sources": table.column("source").to_pylist(),
    "valueHashes": [row_hash(i) for i in range(table.num_rows)],
}))
