import type { NormalizationConfig } from '../model/config.js';
import { silentLogger, type StageLogger } from '../stages/stage.js';
import { ObjectNotFoundError } from '../store/errors.js';
import type { ObjectStore } from '../store/object-store.js';
import { layoutFromIPC, rowsFromIPC, shardToIPC, type EncodedRow, type ShardLayout } from './arrow.js';
import { DEFAULT_COMPRESSION } from './compression.js';
import { DEFAULT_ENCODING, encodeValues } from './encoding.js';
import { DEFAULT_SHARD_PREFIX, pendingFolder, pendingRowKey, utcDay } from './layout.js';
import { putShard } from './put-shard.js';
import { type ShardCompression, type ShardEncoding, type ShardManifest, type ShardRow } from './types.js';

/** When the open shard of a field is written and a new one started: whichever comes first. */
export interface RolloverPolicy {
  maxRows: number;
  /** Encoded bytes of the rows buffered (values and sources). */
  maxBytes: number;
  /** Since the open shard's first row was appended. */
  maxAgeMs: number;
}

/**
 * A day of hourly analyses per shard (88 MB of REFC in float16: a unit a trainer reads at once, and
 * large enough objects for S3); 256 MiB caps the memory of wide fields or float32; an hour caps
 * how long a live analysis, one an hour, waits for its shard.
 */
const DEFAULT_ROLLOVER: Readonly<RolloverPolicy> = Object.freeze({ maxRows: 24, maxBytes: 256 * 2 ** 20, maxAgeMs: 60 * 60 * 1000 });

export interface ShardWriterOptions {
  store: ObjectStore;
  /** How the rows' values were normalized: recorded in every manifest, and the range uint8 codes span. */
  normalization: NormalizationConfig;
  prefix?: string;
  encoding?: ShardEncoding;
  /** Of shards and pending rows alike. */
  compression?: ShardCompression;
  rollover?: Partial<RolloverPolicy>;
  log?: StageLogger;
  /** Milliseconds now, for the age of a shard (tests pass their own). */
  now?: () => number;
  /**
   * A pending row this old by the store's clock, and not this writer's, was left by a writer that
   * stopped before writing its shard: this writer keeps it. Default twice rollover.maxAgeMs, since
   * a running writer writes every row within maxAgeMs.
   */
  orphanAfterMs?: number;
}

export interface ShardWriter {
  /** Buffers a row in its field's open shard, writing the shard first or after when a rollover says so. */
  append(row: ShardRow): Promise<void>;
  /** Writes every open shard now; resolves with their manifests. */
  flush(): Promise<ShardManifest[]>;
  /** Writes every open shard and refuses further rows: a graceful shutdown. */
  close(): Promise<ShardManifest[]>;
  /** Keeps in new shards the pending rows other writers left (see orphanAfterMs); runs at start and every rollover.maxAgeMs. */
  recoverPending(): Promise<ShardManifest[]>;
}

/** What a row adds to its shard's size, against rollover.maxBytes. */
const encodedBytes = (row: EncodedRow) => row.values.byteLength + Buffer.byteLength(row.source);

/** A row and the object that keeps it until its shard is written. */
interface BufferedRow extends EncodedRow {
  pendingKey: string;
}

interface OpenShard {
  layout: ShardLayout;
  rows: BufferedRow[];
  bytes: number;
  openedAt: number;
  timer?: NodeJS.Timeout;
}

/**
 * Accumulates rows in memory, one open shard per field, and writes each shard as an Arrow IPC
 * object, then its manifest: a shard is visible (listed) only once both are in the store. Each
 * row is also in the store from its append on, as a one-row Arrow file under PREFIX/.pending/,
 * removed once its shard is written; so a crash loses no row that was appended: a writer started
 * later (recoverPending) keeps the rows a stopped one left.
 */
export function createShardWriter(options: ShardWriterOptions): ShardWriter {
  const { store, normalization, prefix = DEFAULT_SHARD_PREFIX, encoding = DEFAULT_ENCODING, compression = DEFAULT_COMPRESSION, log = silentLogger, now = Date.now } = options;
  const rollover = { ...DEFAULT_ROLLOVER, ...options.rollover };
  for (const key of ['maxRows', 'maxBytes', 'maxAgeMs'] as const) {
    if (!(rollover[key] > 0)) throw new RangeError(`rollover.${key} must be a number above 0, not ${rollover[key]}`);
  }
  const orphanAfterMs = options.orphanAfterMs ?? 2 * rollover.maxAgeMs;
  if (!(orphanAfterMs >= 0)) throw new RangeError(`orphanAfterMs must be a number of 0 or more, not ${orphanAfterMs}`);
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
    const manifest = await putShard(store, { prefix, layout: shard.layout, rows, compression, createdAt: new Date(now()), log });
    clearTimeout(shard.timer);
    if (open.get(shard.layout.field) === shard) open.delete(shard.layout.field);
    for (const key of new Set(rows.map((row) => row.pendingKey))) await removePending(key);
    return manifest;
  }

  async function removePending(key: string): Promise<void> {
    try {
      await store.delete(key);
    } catch (error) {
      log.warn({ pending: `${store.url}/${key}`, error: (error as Error).message }, 'a pending row could not be removed: a later recovery may keep it a second time');
    }
  }

  /** One-row shards of the pending rows other writers left, grouped back into shards of the rollover's size. */
  async function recoverPending(): Promise<ShardManifest[]> {
    if (closed) return [];
    const ownRows = new Set([...open.values()].flatMap((shard) => shard.rows.map((row) => row.pendingKey)));
    const leftBefore = Date.now() - orphanAfterMs;
    const recovered = new Map<string, OpenShard>();
    const written: ShardManifest[] = [];
    for await (const { key, lastModified } of store.list(pendingFolder(prefix))) {
      if (!key.endsWith('.arrow') || lastModified.getTime() > leftBefore || ownRows.has(key)) continue;
      const name = `${store.url}/${key}`;
      let rows: Array<{ layout: ShardLayout; row: EncodedRow }>;
      try {
        const bytes = await store.get(key);
        const layout = layoutFromIPC(bytes, name);
        rows = [...rowsFromIPC(bytes, layout, name)].map((row) => ({ layout, row }));
      } catch (error) {
        if (error instanceof ObjectNotFoundError) continue; // another writer kept it first
        log.error({ pending: name, error: (error as Error).message }, 'a pending row that cannot be read is left where it is');
        continue;
      }
      for (const { layout, row } of rows) {
        const group = `${JSON.stringify(layout)} ${utcDay(row.validTime)}`;
        const shard = recovered.get(group) ?? { layout, rows: [], bytes: 0, openedAt: now() };
        recovered.set(group, shard);
        shard.rows.push({ ...row, pendingKey: key });
        shard.bytes += encodedBytes(row);
        if (shard.rows.length >= rollover.maxRows || shard.bytes >= rollover.maxBytes) {
          written.push(await write(shard));
          recovered.delete(group);
        }
      }
    }
    for (const shard of recovered.values()) written.push(await write(shard));
    if (written.length > 0) log.warn({ shards: written.length, rows: written.reduce((sum, m) => sum + m.count, 0) }, 'kept the pending rows of a writer that stopped before writing its shards');
    return written;
  }

  const recoverInTurn = () =>
    serially(recoverPending).catch((error: unknown) => {
      log.error({ error: (error as Error).message }, 'recovering pending rows failed: tried again later');
      return [];
    });
  void recoverInTurn();
  const recoveryTimer = setInterval(recoverInTurn, rollover.maxAgeMs);
  recoveryTimer.unref();

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
        const layout: ShardLayout = { field: row.field, height: row.height, width: row.width, encoding, normalization };
        const buffered: BufferedRow = { validTime: row.validTime, source: row.source, values: encodeValues(row.values, encoding, normalization, what), pendingKey: pendingRowKey(prefix, row.field, row.validTime, row.source) };
        let shard = open.get(row.field);
        if (shard && (shard.layout.height !== row.height || shard.layout.width !== row.width || utcDay(shard.rows[0]!.validTime) !== utcDay(row.validTime) || now() - shard.openedAt >= rollover.maxAgeMs)) {
          await write(shard);
          shard = undefined;
        }
        await store.put(buffered.pendingKey, shardToIPC(layout, [buffered], compression), { contentType: 'application/vnd.apache.arrow.file' });
        if (!shard) {
          shard = { layout, rows: [], bytes: 0, openedAt: now() };
          open.set(row.field, shard);
          startAgeTimer(shard);
        }
        shard.rows.push(buffered);
        const rowBytes = encodedBytes(buffered);
        shard.bytes += rowBytes;
        if (shard.rows.length >= rollover.maxRows || shard.bytes >= rollover.maxBytes) {
          try {
            await write(shard);
          } catch (error) {
            // The row is not kept when its append fails, so that a retried append does not keep it twice.
            shard.rows.pop();
            shard.bytes -= rowBytes;
            if (!shard.rows.some(({ pendingKey }) => pendingKey === buffered.pendingKey)) await removePending(buffered.pendingKey);
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
        clearInterval(recoveryTimer);
        return written;
      }),
    recoverPending: () => serially(recoverPending),
  };
}
