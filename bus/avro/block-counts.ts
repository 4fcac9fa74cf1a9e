import type avro from 'avsc';

/**
 * Checks that each array and map block in `bytes` claims no more items than the bytes after it
 * could hold, reading them as `type` once, without allocating. avsc makes and fills an array of
 * whatever count a block declares (reading zeros past the end): a record of a few bytes that
 * claims 2^32 floats takes the heap down before avsc sees it is cut short. Throws an Error naming
 * the block; a record cut short elsewhere is left for avsc to report.
 */
export function checkBlockCounts(type: avro.Type, bytes: Uint8Array): void {
  const cursor = { bytes, position: 0 };
  try {
    walk(type, cursor);
  } catch (error) {
    if (error !== endOfBytes) throw error;
  }
}

interface Cursor {
  bytes: Uint8Array;
  position: number;
}

/** Thrown on reading past the end: avsc says that more precisely. */
const endOfBytes = new Error('end of bytes');

/** Avro's int and long: a zig-zag varint; a value past 2^53 loses precision, which a bound does not need. */
function readLong(cursor: Cursor): number {
  let value = 0;
  let scale = 1;
  for (;;) {
    if (cursor.position >= cursor.bytes.length) throw endOfBytes;
    const byte = cursor.bytes[cursor.position++]!;
    value += (byte & 0x7f) * scale;
    if (!(byte & 0x80)) break;
    scale *= 128;
  }
  return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
}

function skip(cursor: Cursor, count: number): void {
  cursor.position += count;
  if (cursor.position > cursor.bytes.length) throw endOfBytes;
}

function walk(type: avro.Type, cursor: Cursor): void {
  const named = type as avro.Type & Partial<AvroTypeParts>;
  switch (type.typeName) {
    case 'null':
      return;
    case 'boolean':
      return skip(cursor, 1);
    case 'int':
    case 'long':
    case 'enum':
      return void readLong(cursor);
    case 'float':
      return skip(cursor, 4);
    case 'double':
      return skip(cursor, 8);
    case 'bytes':
    case 'string':
      return skip(cursor, Math.max(0, readLong(cursor)));
    case 'fixed':
      return skip(cursor, named.size!);
    case 'record':
    case 'error':
      for (const field of named.fields!) walk(field.type, cursor);
      return;
    case 'union:unwrapped':
    case 'union:wrapped': {
      const branch = named.types![readLong(cursor)];
      if (branch) walk(branch, cursor);
      return;
    }
    case 'array':
    case 'map':
      return walkBlocks(type.typeName, named.itemsType ?? named.valuesType!, cursor);
    default:
      // A logical type: its bytes are its underlying type's.
      if (named.underlyingType) walk(named.underlyingType, cursor);
  }
}

/** Fields of avsc's type classes that its typings leave out. */
interface AvroTypeParts {
  size: number;
  fields: Array<{ type: avro.Type }>;
  types: avro.Type[];
  itemsType: avro.Type;
  valuesType: avro.Type;
  underlyingType: avro.Type;
}

function walkBlocks(kind: 'array' | 'map', items: avro.Type, cursor: Cursor): void {
  // A map's entries each begin with their key, a string of at least its length's octet.
  const itemBytes = kind === 'map' ? 1 + smallestSize(items) : smallestSize(items);
  for (let count = readLong(cursor); count !== 0; count = readLong(cursor)) {
    if (count < 0) {
      // A block that gives its size in bytes as well: skipped whole.
      skip(cursor, readLong(cursor));
      continue;
    }
    const left = cursor.bytes.length - cursor.position;
    // Items of no bytes (null) are bounded too: by the bytes left, as if they took one each.
    if (count * Math.max(1, itemBytes) > left) {
      throw new Error(`${kind} block of ${count} items at byte ${cursor.position}: the ${left} bytes left hold at most ${Math.floor(left / Math.max(1, itemBytes))}`);
    }
    for (let i = 0; i < count; i++) {
      if (kind === 'map') skip(cursor, Math.max(0, readLong(cursor)));
      walk(items, cursor);
    }
  }
}

/** The fewest bytes a value of `type` takes. */
function smallestSize(type: avro.Type, seen: ReadonlySet<avro.Type> = new Set()): number {
  const named = type as avro.Type & Partial<AvroTypeParts>;
  switch (type.typeName) {
    case 'null':
      return 0;
    case 'float':
      return 4;
    case 'double':
      return 8;
    case 'fixed':
      return named.size!;
    case 'record':
    case 'error':
      // A record that holds itself does so through a union or an array, of one byte at least.
      if (seen.has(type)) return 1;
      return named.fields!.reduce((sum, field) => sum + smallestSize(field.type, new Set([...seen, type])), 0);
    default:
      return named.underlyingType ? smallestSize(named.underlyingType, seen) : 1;
  }
}
