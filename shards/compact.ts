/**
 * Compaction: the shards of one field and one UTC day merged into one. A live consumer writes a
 * shard about every hour (its rows wait at most rollover.maxAgeMs), so a day ends up in some 24
 * small shards; a trainer reads a day at once, and on S3 each shard costs two requests.
 */
import { silentLogger, type StageLogger } from '../stages/stage.js';
import type { ObjectStore } from '../store/object-store.js';
import type { EncodedRow, ShardLayout } from './arrow.js';
import { CorruptShardError, openShardCatalog, readEncodedRows } from './catalog.js';
import { DEFAULT_COMPRESSION } from './compression.js';
import { byCodeUnits, DEFAULT_SHARD_PREFIX, fieldFolder, manifestKeyOf, MANIFEST_SUFFIX, utcDay } from './layout.js';
import { putShard } from './put-shard.js';
import type { ShardCompression, ShardManifest } from './types.js';

export interface CompactOptions {
  store: ObjectStore;
  field: string;
  /**
   * Only days that ended by this time are compacted: a day still being written is left alone.
   * Default two hours ago: a live day's last analysis is in its shard within rollover.maxAgeMs (1 h).
   */
  before?: Date;
  prefix?: string;
  compression?: ShardCompression;
  /** Shard ids not to replace (those an unfinished training run planned on): their day waits. */
  keep?: ReadonlySet<string>;
  log?: StageLogger;
  now?: () => number;
  /** Stops between days. */
  signal?: AbortSignal;
}

export interface CompactedDay {
  /** e.g. "2019-09-20". */
  day: string;
  /** The ids of the shards replaced, now removed. */
  replaced: string[];
  shard: ShardManifest;
  /** Rows left out because an earlier-written row of the day has the same valid time. */
  duplicates: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const SETTLED_MS = 2 * HOUR_MS;

/**
 * Merges each day's shards (of one layout: encoding, size and normalization) into one shard of
 * its rows in valid-time order, a valid time kept once (from the shard written first), then
 * removes the merged shards, manifest first. Values are copied as they are stored, never decoded
 * and encoded again. A crash part way leaves rows twice (the new shard and old ones still
 * listed), never none; the next compaction merges them again. A day holding a shard whose object
 * fails its checks is left as it is, with an error naming the shard, and the other days go on.
 * First, the data objects a crash left without a manifest are removed (removeUnlistedObjects).
 */
export async function compactShards(options: CompactOptions): Promise<CompactedDay[]> {
  const { store, field, prefix = DEFAULT_SHARD_PREFIX, compression = DEFAULT_COMPRESSION, keep = new Set(), log = silentLogger, now = Date.now, signal } = options;
  const before = options.before ?? new Date(now() - SETTLED_MS);
  await removeUnlistedObjects(store, fieldFolder(prefix, field), now() - SETTLED_MS, log);
  const days = new Map<string, ShardManifest[]>();
  for (const manifest of await openShardCatalog(store, prefix).list({ field, to: before })) {
    const day = utcDay(new Date(manifest.from));
    if (Date.parse(day) + DAY_MS > before.getTime()) continue;
    const group = `${day} ${JSON.stringify(layoutOf(manifest))}`;
    days.set(group, [...(days.get(group) ?? []), manifest]);
  }
  const compacted: CompactedDay[] = [];
  for (const shards of days.values()) {
    if (signal?.aborted) break;
    const day = utcDay(new Date(shards[0]!.from));
    if (shards.length < 2) continue;
    const kept = shards.filter((shard) => keep.has(shard.id));
    if (kept.length > 0) {
      log.info({ field, day, shards: kept.map((shard) => shard.id) }, 'day not compacted: an unfinished training run planned on its shards');
      continue;
    }
    let distinct;
    try {
      distinct = await distinctRows(store, shards);
    } catch (error) {
      if (!(error instanceof CorruptShardError)) throw error;
      log.error({ field, day, err: error.message }, `day not compacted: ${error.message}`);
      continue;
    }
    const { rows, duplicates } = distinct;
    const shard = await putShard(store, { prefix, layout: layoutOf(shards[0]!), rows, compression, createdAt: new Date(now()), log });
    for (const old of shards) {
      await store.delete(manifestKeyOf(old.dataKey));
      await store.delete(old.dataKey);
    }
    log.info({ field, day, shard: shard.id, replaced: shards.length, rows: rows.length, duplicates }, 'day compacted');
    compacted.push({ day, replaced: shards.map((old) => old.id), shard, duplicates });
  }
  return compacted;
}

/**
 * Removes the shard data objects that have no manifest and were written before `settledBefore`:
 * what a crash between a shard's two writes left (a writer killed after its data object, or a
 * compaction after removing a merged shard's manifest). Never listed, never read, they would stay
 * for good. A shard being written now has its manifest within seconds: a younger object is left.
 */
async function removeUnlistedObjects(store: ObjectStore, folder: string, settledBefore: number, log: StageLogger): Promise<void> {
  const manifests = new Set<string>();
  const objects: Array<{ key: string; lastModified: Date }> = [];
  for await (const { key, lastModified } of store.list(folder)) {
    if (key.endsWith(MANIFEST_SUFFIX)) manifests.add(key);
    else if (key.endsWith('.arrow')) objects.push({ key, lastModified });
  }
  for (const { key, lastModified } of objects) {
    if (manifests.has(manifestKeyOf(key)) || lastModified.getTime() >= settledBefore) continue;
    await store.delete(key);
    log.warn({ object: `${store.url}/${key}` }, 'removed a shard data object that has no manifest (left by a crash between its two writes)');
  }
}

function layoutOf({ field, height, width, encoding, normalization }: ShardManifest): ShardLayout {
  return { field, height, width, encoding, normalization };
}

/** The rows of `shards` (listed oldest first, then in the order written) in valid-time order, each valid time once. */
async function distinctRows(store: ObjectStore, shards: ShardManifest[]): Promise<{ rows: EncodedRow[]; duplicates: number }> {
  const byTime = new Map<number, EncodedRow>();
  let duplicates = 0;
  for (const shard of [...shards].sort((a, b) => byCodeUnits(a.createdAt, b.createdAt) || byCodeUnits(a.id, b.id))) {
    for (const row of await readEncodedRows(store, shard)) {
      if (byTime.has(row.validTime.getTime())) duplicates++;
      else byTime.set(row.validTime.getTime(), row);
    }
  }
  return { rows: [...byTime.values()].sort((a, b) => a.validTime.getTime() - b.validTime.getTime()), duplicates };
}
