import { createHash } from 'node:crypto';
import type { NormalizationConfig } from '../model/config.js';
import { silentLogger, type StageLogger } from '../stages/stage.js';
import type { ObjectStore } from '../store/object-store.js';
import { shardToIPC, type EncodedRow, type ShardLayout } from './arrow.js';
import { BYTES_PER_VALUE, DEFAULT_ENCODING, encodeValues } from './encoding.js';
import { DEFAULT_SHARD_PREFIX, newShardKeys, sameMonth } from './layout.js';
import { SHARD_FORMAT, type ShardEncoding, type ShardManifest, type ShardRow } from './types.js';

/** When the open shard of a field is written and a new one started: whichever comes first. */
export interface RolloverPolicy {
  maxRows: number;
  /** Encoded bytes of the rows buffered (values and sources). */
  maxBytes: number;
  /** Since the open shard's first row was appended. */
  maxAgeMs: number;
}

/**
 * A day of hourly analyses per shard (44 MB of REFC at uint8: a unit a trainer reads at once, and
 * large enough objects for S3); 256 MiB caps the memory of wide fields or float32; an hour caps
 * what a crash loses when analyses come live, one an hour.
 */
export const DEFAULT_ROLLOVER: Readonly<RolloverPolicy> = Object.freeze({ maxRows: 24, maxBytes: 256 * 2 ** 20, maxAgeMs: 60 * 60 * 1000 });

export interface ShardWriterOptions {
  store: ObjectStore;
  /** How the rows' values were normalized: recorded in every manifest, and the range uint8 codes span. */
  normalization: NormalizationConfig;
  prefix?: string;
  encoding?: ShardEncoding;
  rollover?: Partial<RolloverPolicy>;
  log?: StageLogger;
  /** Milliseconds now, for the age of a shard (tests pass their own). */
  now?: () => number;
}

export interface ShardWriter {
  /** Buffers a row in its field's open shard, writing the shard first or after when a rollover says so. */
  append(row: ShardRow): Promise<void>;
  /** Writes every open shard now; resolves with their manifests. */
  flush(): Promise<ShardManifest[]>;
  /** Writes every open shard and refuses further rows: a graceful shutdown. */
  close(): Promise<ShardManifest[]>;
}

interface OpenShard {
  layout: ShardLayout;
  rows: EncodedRow[];
  bytes: number;
  openedAt: number;
  timer?: NodeJS.Timeout;
}

/**
 * Accumulates rows in memory, one open shard per field, and writes each shard as an Arrow IPC
 * object, then its manifest: a shard is visible (listed) only once both are in the store. Rows
 * in an open shard are in memory alone: a crash loses them (see notes/README-shards.md).
 */
export function createShardWriter(options: ShardWriterOptions): ShardWriter {
  const { store, normalization, prefix = DEFAULT_SHARD_PREFIX, encoding = DEFAULT_ENCODING, log = silentLogger, now = Date.now } = options;
  const rollover = { ...DEFAULT_ROLLOVER, ...options.rollover };
  for (const key of ['maxRows', 'maxBytes', 'maxAgeMs'] as const) {
    if (!(rollover[key] > 0)) throw new RangeError(`rollover.${key} must be a number above 0, not ${rollover[key]}`);
  }
  const open = new Map<string, OpenShard>();
  let closed = false;
  // One operation at a time: a rollover's writes never interleave with another append's.
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(operation: () => Promise<T>): Promise<T> => {
    const result = queue.then(operation);
    queue = result.catch(() => {});
    return result;
  };

  async function write(shard: OpenShard): Promise<ShardManifest> {
    const rows = [...shard.rows].sort((a, b) => a.validTime.getTime() - b.validTime.getTime());
    const from = rows[0]!.validTime;
    const to = rows.at(-1)!.validTime;
    const body = shardToIPC(shard.layout, rows);
    const { id, dataKey, manifestKey } = newShardKeys(prefix, shard.layout.field, from, to);
    const manifest: ShardManifest = {
      format: SHARD_FORMAT,
      id,
      field: shard.layout.field,
      dataKey,
      from: from.toISOString(),
      to: to.toISOString(),
      count: rows.length,
      height: shard.layout.height,
      width: shard.layout.width,
      encoding: shard.layout.encoding,
      normalization: shard.layout.normalization,
      bytes: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
      createdAt: new Date(now()).toISOString(),
    };
    // Data first, manifest last: readers list manifests, so a crash between the two leaves an unlisted object.
    await store.put(dataKey, body, { contentType: 'application/vnd.apache.arrow.file' });
    await store.put(manifestKey, new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`), { contentType: 'application/json' });
    clearTimeout(shard.timer);
    if (open.get(shard.layout.field) === shard) open.delete(shard.layout.field);
    log.info({ shard: `${store.url}/${manifestKey}`, count: manifest.count, bytes: manifest.bytes, from: manifest.from, to: manifest.to }, 'shard written');
    return manifest;
  }

  function startAgeTimer(shard: OpenShard): void {
    shard.timer = setTimeout(() => {
      serially(async () => {
        if (open.get(shard.layout.field) === shard) await write(shard);
      }).catch((error: unknown) => {
        log.error({ field: shard.layout.field, rows: shard.rows.length, error: (error as Error).message }, 'writing an aged shard failed: its rows stay buffered, tried again later');
        if (open.get(shard.layout.field) === shard) startAgeTimer(shard);
      });
    }, rollover.maxAgeMs);
    shard.timer.unref();
  }

  async function writeAll(): Promise<ShardManifest[]> {
    const written: ShardManifest[] = [];
    for (const shard of [...open.values()]) written.push(await write(shard));
    return written;
  }

  return {
    append(row) {
      return serially(async () => {
        if (closed) throw new Error('the shard writer is closed');
        if (Number.isNaN(row.validTime.getTime())) throw new RangeError(`row ${row.field}: its valid time is not a date`);
        const what = `row ${row.field} valid ${row.validTime.toISOString()}`;
        if (row.values.length !== row.height * row.width) throw new RangeError(`${what}: ${row.values.length} values for ${row.height} x ${row.width}`);
        const values = encodeValues(row.values, encoding, normalization, what);
        let shard = open.get(row.field);
        if (shard && (shard.layout.height !== row.height || shard.layout.width !== row.width || !sameMonth(shard.rows[0]!.validTime, row.validTime) || now() - shard.openedAt >= rollover.maxAgeMs)) {
          await write(shard);
          shard = undefined;
        }
        if (!shard) {
          shard = { layout: { field: row.field, height: row.height, width: row.width, encoding, normalization }, rows: [], bytes: 0, openedAt: now() };
          open.set(row.field, shard);
          startAgeTimer(shard);
        }
        const encoded: EncodedRow = { validTime: row.validTime, source: row.source, values };
        shard.rows.push(encoded);
        const rowBytes = values.length * BYTES_PER_VALUE[encoding] + Buffer.byteLength(row.source);
        shard.bytes += rowBytes;
        if (shard.rows.length >= rollover.maxRows || shard.bytes >= rollover.maxBytes) {
          try {
            await write(shard);
          } catch (error) {
            // The row is not kept when its append fails, so that a retried append does not keep it twice.
            shard.rows.pop();
            shard.bytes -= rowBytes;
            if (shard.rows.length === 0) {
              clearTimeout(shard.timer);
              open.delete(row.field);
            }
            throw error;
          }
        }
      });
    },
    flush: () => serially(writeAll),
    close: () =>
      serially(async () => {
        const written = await writeAll();
        closed = true;
        return written;
      }),
  };
}
