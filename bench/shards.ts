/**
 * `npm run bench -- shards [FILE] [--rows N] [--match REGEX]`
 *
 * Writes N copies of a real REFC field (of the shared HRRR analysis by default; --match picks the
 * message of FILE), normalized and cropped as the seed model takes it (1024 x 1792), into a shard
 * of each encoding and compression in a local folder store, reads it back, and prints side by
 * side: bytes per field and the ratio to uncompressed float32, the error in dBZ against the float32
 * values, whether the data's own precision (its GRIB2 packing step) survives rounding, and write
 * and read time per field (encode, compression, Arrow IPC, SHA-256 and the store's put; get,
 * checks, decompression and decode).
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { SEED_NORMALIZATION } from '../model/config.js';
import { openShardCatalog } from '../shards/catalog.js';
import { ENCODINGS } from '../shards/encoding.js';
import type { ShardCompression, ShardEncoding, ShardRow } from '../shards/types.js';
import { createShardWriter } from '../shards/writer.js';
import { FolderStore } from '../store/folder.js';
import { REAL_REFC_FILE, realField } from './real-field.js';
import { scratchFolder } from './scratch-folder.js';
import { commandLine, matchOption, parseBenchArgs, UsageError } from './usage.js';

export const SHARDS_USAGE = 'npm run bench -- shards [FILE] [--rows N] [--match REGEX]';

const COMPRESSIONS: readonly ShardCompression[] = ['none', 'zstd'];

interface Result {
  encoding: ShardEncoding;
  compression: ShardCompression;
  bytesPerField: number;
  ratioToFloat32: number;
  maxAbsError: number;
  meanAbsError: number;
  /** Values whose packing step is lost: rounded to the step, they differ from the original. */
  valuesOffStep: number;
  writeMsPerField: number;
  readMsPerField: number;
}

export async function shardsBench(args: string[]): Promise<number> {
  const { values: options, positionals } = parseBenchArgs({ args, allowPositionals: true, options: { rows: { type: 'string', default: '8' }, match: { type: 'string', default: '^REFC$' } } });
  const rows = Number(options.rows);
  if (!Number.isInteger(rows) || rows < 1) throw new UsageError(`--rows: ${options.rows} is not a whole number of at least 1`);
  if (positionals.length > 1) throw new UsageError('give at most one FILE');
  const file = positionals[0] ?? REAL_REFC_FILE;
  const { shortName, raw, values, height, width } = await realField(file, matchOption(options.match));
  const normalization = SEED_NORMALIZATION;
  // The shards hold fields as the seed model takes them, normalized for REFC: another field, clipped
  // to REFC's range (TMP's kelvins all to its top), would measure nothing but a constant.
  if (shortName !== 'REFC') throw new UsageError(`${file}: the matched message is ${shortName}; shards hold REFC normalized as the seed model takes it (${normalization.clipMin}..${normalization.clipMax} dBZ), so only a REFC field measures anything`);
  const precision = packingStep(raw, normalization.clipMin, normalization.clipMax);
  const shardRows: ShardRow[] = Array.from({ length: rows }, (_, i) => ({ validTime: new Date(Date.UTC(2019, 8, 20, i)), field: 'REFC:entire atmosphere:anl', source: `file://bench/${i}`, height, width, values }));

  const folder = await scratchFolder('shards');
  const results: Result[] = [];
  try {
    for (const encoding of ENCODINGS) for (const compression of COMPRESSIONS) {
      const store = new FolderStore(join(folder.path, `${encoding}-${compression}`));
      const writer = createShardWriter({ store, normalization, encoding, compression, rollover: { maxRows: rows } });
      const writeStart = performance.now();
      for (const row of shardRows) await writer.append(row);
      await writer.close();
      const writeMs = performance.now() - writeStart;
      const catalog = openShardCatalog(store);
      const [manifest] = await catalog.list({ field: shardRows[0]!.field });
      const readStart = performance.now();
      const decoded: Float32Array[] = [];
      for await (const row of catalog.read(manifest!)) decoded.push(row.values);
      const readMs = performance.now() - readStart;
      const error = errors(values, decoded[0]!, normalization.scale, precision.step);
      results.push({
        encoding,
        compression,
        bytesPerField: manifest!.bytes / rows,
        ratioToFloat32: 0,
        ...error,
        writeMsPerField: writeMs / rows,
        readMsPerField: readMs / rows,
      });
    }
  } finally {
    await folder.remove();
  }
  const float32 = results.find((r) => r.encoding === 'float32' && r.compression === 'none')!.bytesPerField;
  for (const result of results) result.ratioToFloat32 = result.bytesPerField / float32;

  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
  const header = ['encoding', 'compression', 'bytes/field', 'vs float32', 'max |err| dBZ', 'mean |err| dBZ', `off ${precision.step} dBZ step`, 'write ms/field', 'read ms/field'];
  const table = results.map((r) => [r.encoding, r.compression, mb(r.bytesPerField), r.ratioToFloat32.toFixed(3), r.maxAbsError.toFixed(4), r.meanAbsError.toFixed(5), String(r.valuesOffStep), r.writeMsPerField.toFixed(1), r.readMsPerField.toFixed(1)]);
  const widths = header.map((title, i) => Math.max(title.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padStart(widths[i]!)).join('  ');
  const zeros = values.reduce((count, value) => count + (value === 0 ? 1 : 0), 0);
  const lines = [
    `${file}: ${shortName}, ${height} x ${width} after the crop, ${rows} rows per shard`,
    `values in ${normalization.clipMin}..${normalization.clipMax}: ${precision.distinct} distinct, packed in steps of ${precision.step} (${Math.round((normalization.clipMax - normalization.clipMin) / precision.step) + 1} levels would need ${Math.ceil(Math.log2((normalization.clipMax - normalization.clipMin) / precision.step + 1))} bits); ${((100 * zeros) / values.length).toFixed(1)}% of the field is 0 after clipping`,
    line(header),
    ...table.map(line),
  ];
  const json = { benchmark: 'shards', command: commandLine(['shards', ...args]), file, rows, height, width, precision, node: process.version, cpu: cpus()[0]?.model ?? null, cores: cpus().length, results };
  process.stdout.write(`${lines.join('\n')}\nJSON ${JSON.stringify(json)}\n`);
  return 0;
}

/** The data's own step: the smallest gap between distinct values within the clip range. */
function packingStep(values: Float32Array, clipMin: number, clipMax: number): { distinct: number; step: number } {
  const distinct = [...new Set(values)].filter((value) => value >= clipMin && value <= clipMax).sort((a, b) => a - b);
  let step = Infinity;
  for (let i = 1; i < distinct.length; i++) step = Math.min(step, distinct[i]! - distinct[i - 1]!);
  return { distinct: distinct.length, step };
}

function errors(original: Float32Array, decoded: Float32Array, scale: number, step: number): Pick<Result, 'maxAbsError' | 'meanAbsError' | 'valuesOffStep'> {
  let max = 0;
  let sum = 0;
  let offStep = 0;
  for (let i = 0; i < original.length; i++) {
    const error = Math.abs(decoded[i]! - original[i]!) * Math.abs(scale);
    max = Math.max(max, error);
    sum += error;
    if (Math.round((decoded[i]! * scale) / step) !== Math.round((original[i]! * scale) / step)) offStep++;
  }
  return { maxAbsError: max, meanAbsError: sum / original.length, valuesOffStep: offStep };
}
