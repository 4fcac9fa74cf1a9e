/**
 * A shard's Arrow IPC file: one record batch per row (a field), columns validTime (timestamp,
 * ms, UTC), source (utf8) and values (fixed-size list of height x width float32, float16 or
 * uint8), its buffers compressed with zstd by default. The schema's metadata repeats what a
 * reader needs without the manifest (format, field, encoding, height, width, normalization), so
 * the file can be read on its own, by pyarrow for one.
 */
import {
  type Data,
  DataType,
  Field,
  FixedSizeList,
  Float16,
  Float32,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  tableFromIPC,
  TimestampMillisecond,
  Uint8,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { normalizationConfig, type NormalizationConfig } from '../model/config.js';
import { tableToCompressedIPC } from './compression.js';
import { ENCODINGS, type EncodedValues } from './encoding.js';
import { SHARD_FORMAT, type ShardCompression, type ShardEncoding } from './types.js';

/** What every row of a shard shares. */
export interface ShardLayout {
  field: string;
  height: number;
  width: number;
  encoding: ShardEncoding;
  normalization: NormalizationConfig;
}

/** One row, its values already encoded. */
export interface EncodedRow {
  validTime: Date;
  source: string;
  values: EncodedValues;
}

/** A row's values as an Arrow column of the encoding's type. */
function valueData(encoding: ShardEncoding, values: EncodedValues): Data<Float32 | Float16 | Uint8> {
  const props = { length: values.length, nullCount: 0 };
  if (encoding === 'float32') return makeData({ type: new Float32(), data: values as Float32Array, ...props });
  if (encoding === 'float16') return makeData({ type: new Float16(), data: values as Uint16Array, ...props });
  return makeData({ type: new Uint8(), data: values as Uint8Array, ...props });
}

/** The values column's type, a list of one row's values: "FixedSizeList[SIZE]<Float16>". */
function valuesTypeName(encoding: ShardEncoding, size: number): string {
  const type = encoding === 'float32' ? new Float32() : encoding === 'float16' ? new Float16() : new Uint8();
  return String(new FixedSizeList<DataType>(size, new Field('value', type, false)));
}

/**
 * One record batch per row: each is compressed on its own, so zstd's memory (it grows to hold a
 * buffer and its compressed copy, and keeps that size) stays that of one field, not of a shard.
 */
export function shardToIPC(layout: ShardLayout, rows: readonly EncodedRow[], compression: ShardCompression): Uint8Array {
  const size = layout.height * layout.width;
  const listType = new FixedSizeList<DataType>(size, new Field('value', valueData(layout.encoding, rows[0]!.values).type, false));
  const fields = [new Field('validTime', new TimestampMillisecond('UTC'), false), new Field('source', new Utf8(), false), new Field('values', listType, false)];
  const metadata = new Map([
    ['format', SHARD_FORMAT],
    ['field', layout.field],
    ['encoding', layout.encoding],
    ['height', String(layout.height)],
    ['width', String(layout.width)],
    ['normalization', JSON.stringify(layout.normalization)],
  ]);
  const schema = new Schema(fields, metadata);
  const batches = rows.map((row) => {
    const values = makeData({ type: listType, length: 1, nullCount: 0, child: valueData(layout.encoding, row.values) as Data<DataType> });
    const validTime = vectorFromArray([row.validTime], new TimestampMillisecond('UTC')).data[0]!;
    const source = vectorFromArray([row.source], new Utf8()).data[0]!;
    return new RecordBatch(schema, makeData({ type: new Struct(fields), length: 1, nullCount: 0, children: [validTime, source, values] }));
  });
  return tableToCompressedIPC(new Table(schema, batches), compression);
}

/** The layout an Arrow IPC shard's own metadata gives (a pending row has no manifest); `name` is in every error. */
export function layoutFromIPC(bytes: Uint8Array, name: string): ShardLayout {
  const metadata = tableFromIPC(bytes).schema.metadata;
  const fail = (what: string) => new Error(`shard file ${name}: ${what}`);
  if (metadata.get('format') !== SHARD_FORMAT) throw fail(`format is ${JSON.stringify(metadata.get('format'))}, not ${JSON.stringify(SHARD_FORMAT)}`);
  const encoding = metadata.get('encoding') as ShardEncoding;
  if (!ENCODINGS.includes(encoding)) throw fail(`encoding ${JSON.stringify(encoding)} is not one of ${ENCODINGS.join(', ')}`);
  const [height, width] = [Number(metadata.get('height')), Number(metadata.get('width'))];
  if (!(Number.isInteger(height) && height > 0 && Number.isInteger(width) && width > 0)) throw fail('height or width is not a whole number');
  const field = metadata.get('field');
  if (!field) throw fail('it names no field');
  try {
    return { field, height, width, encoding, normalization: normalizationConfig(JSON.parse(metadata.get('normalization') ?? '')) };
  } catch (error) {
    throw fail(`its normalization: ${(error as Error).message}`);
  }
}

/** The rows of an Arrow IPC shard, values still encoded; `expected` is checked against the file's own metadata. */
export function* rowsFromIPC(bytes: Uint8Array, expected: ShardLayout, name: string): Iterable<EncodedRow> {
  const table = tableFromIPC(bytes);
  const metadata = table.schema.metadata;
  const found = { format: metadata.get('format'), field: metadata.get('field'), encoding: metadata.get('encoding'), height: metadata.get('height'), width: metadata.get('width') };
  const wanted = { format: SHARD_FORMAT, field: expected.field, encoding: expected.encoding, height: String(expected.height), width: String(expected.width) };
  for (const key of Object.keys(wanted) as Array<keyof typeof wanted>) {
    if (found[key] !== wanted[key]) throw new Error(`shard ${name}: the Arrow file's ${key} is ${JSON.stringify(found[key])}, its manifest says ${JSON.stringify(wanted[key])}`);
  }
  const size = expected.height * expected.width;
  const shape = `${expected.height} x ${expected.width}`;
  const valuesType = valuesTypeName(expected.encoding, size);
  for (const batch of table.batches) {
    const validTimes = batch.getChild('validTime');
    const sources = batch.getChild('source');
    const lists = batch.getChild('values');
    if (!validTimes || !sources || !lists) throw new Error(`shard ${name}: the Arrow file lacks a validTime, source or values column`);
    // Checked here, since the metadata alone says nothing of the buffers: values of another type would be
    // decoded into garbage (NaNs), and too few would make short rows, not an error.
    // Any unit reads back as milliseconds; anything but a timestamp would read as Invalid Dates.
    if (!DataType.isTimestamp(validTimes.type) || validTimes.nullCount > 0) throw new Error(`shard ${name}: its validTime column is ${String(validTimes.type)}${validTimes.nullCount > 0 ? ` with ${validTimes.nullCount} nulls` : ''}, not a timestamp for every row`);
    if (String(lists.type) !== valuesType) throw new Error(`shard ${name}: its values column is ${String(lists.type)}, not the ${valuesType} of ${shape} ${expected.encoding}`);
    const list = lists.data[0]!;
    const child = list.children[0]!;
    const held = child.values.length - child.offset;
    if (held < (list.offset + batch.numRows) * size) throw new Error(`shard ${name}: its values column holds ${held} values, not the ${batch.numRows * size} of its ${batch.numRows} row${batch.numRows === 1 ? '' : 's'} of ${shape}`);
    for (let i = 0; i < batch.numRows; i++) {
      const start = child.offset + (list.offset + i) * size;
      yield { validTime: new Date(Number(validTimes.get(i))), source: String(sources.get(i)), values: (child.values as EncodedValues).subarray(start, start + size) };
    }
  }
}
