import { createHash } from 'node:crypto';
import { ObjectNotFoundError } from '../store/errors.js';
import type { ObjectStore } from '../store/object-store.js';
import { rowsFromIPC, type EncodedRow } from './arrow.js';
import { decodeValues, ENCODINGS } from './encoding.js';
import { byCodeUnits, dataKeyOf, DEFAULT_SHARD_PREFIX, fieldFolder, MANIFEST_SUFFIX, monthFolder } from './layout.js';
import { SHARD_FORMAT, type ShardCatalog, type ShardManifest } from './types.js';

export interface ShardCatalogOptions {
  /** Told of each manifest that is not one (its shard is then left out of the listing); default: the listing fails. */
  onUnreadableManifest?: (error: CorruptShardError) => void;
}

/**
 * The shards in a store, as the trainer reads them. Only manifests are listed, so a data object
 * whose manifest was never written (a crash between the two) is not seen. Shards are not
 * deduplicated: a valid time written twice (a re-run) is in both shards' rows.
 */
export function openShardCatalog(store: ObjectStore, prefix = DEFAULT_SHARD_PREFIX, { onUnreadableManifest }: ShardCatalogOptions = {}): ShardCatalog {
  return {
    // A fallback chain's URL is its stores' URLs joined by commas (a folder's own commas are escaped): the prefix follows each.
    url: store.url.split(',').map((url) => `${url.replace(/\/$/, '')}/${prefix}`).join(','),
    async list({ field, from, to }) {
      const folder = fieldFolder(prefix, field);
      // Shards lie in the month folder of their first row and never span months: list from
      // `from`'s month (keys sort after their folder's name) and stop past `to`'s.
      const last = to && monthFolder(prefix, field, to);
      const keys: string[] = [];
      const options = from ? { startAfter: monthFolder(prefix, field, from) } : {};
      for await (const { key } of store.list(folder, options)) {
        if (last && key > last && !key.startsWith(last)) break;
        if (key.endsWith(MANIFEST_SUFFIX)) keys.push(key);
      }
      return (await readManifests(store, keys, onUnreadableManifest))
        .filter((manifest) => manifest.field === field && (!from || Date.parse(manifest.to) >= from.getTime()) && (!to || Date.parse(manifest.from) <= to.getTime()))
        .sort((a, b) => Date.parse(a.from) - Date.parse(b.from) || byCodeUnits(a.createdAt, b.createdAt) || byCodeUnits(a.id, b.id));
    },

    async *read(manifest) {
      for (const row of await readEncodedRows(store, manifest)) {
        yield { validTime: row.validTime, field: manifest.field, source: row.source, height: manifest.height, width: manifest.width, values: decodeValues(row.values, manifest.encoding, manifest.normalization) };
      }
    },
  };
}

/** A shard that cannot be read as its manifest says, however often it is tried: missing, of another size or checksum, or unreadable. */
export class CorruptShardError extends Error {
  override readonly name = 'CorruptShardError';
}

/** A shard's rows with their values as stored; a CorruptShardError when its object fails its checks or cannot be read. */
export async function readEncodedRows(store: ObjectStore, manifest: ShardManifest): Promise<EncodedRow[]> {
  const bytes = await readShardObject(store, manifest);
  try {
    return [...rowsFromIPC(bytes, manifest, `${store.url}/${manifest.dataKey}`)];
  } catch (error) {
    // The bytes are those the manifest's checksum names: another try reads the same.
    throw new CorruptShardError(`shard ${manifest.id}: ${(error as Error).message}`, { cause: error });
  }
}

/** A shard's Arrow object, refused when its size or SHA-256 differs from its manifest. */
async function readShardObject(store: ObjectStore, manifest: ShardManifest): Promise<Uint8Array> {
  const name = `${store.url}/${manifest.dataKey}`;
  let bytes: Uint8Array;
  try {
    bytes = await store.get(manifest.dataKey);
  } catch (error) {
    if (error instanceof ObjectNotFoundError) throw new CorruptShardError(`shard ${manifest.id}: its data object ${name} is missing`, { cause: error });
    throw error;
  }
  if (bytes.length !== manifest.bytes) throw new CorruptShardError(`shard ${manifest.id}: ${name} is ${bytes.length} bytes, its manifest says ${manifest.bytes}`);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== manifest.sha256) throw new CorruptShardError(`shard ${manifest.id}: ${name} has SHA-256 ${sha256}, its manifest says ${manifest.sha256}: the object is corrupt or was replaced`);
  return bytes;
}

/** Manifests read at once: enough to hide a store's latency, few enough for a folder's open files. */
const MANIFESTS_AT_ONCE = 16;

async function readManifests(store: ObjectStore, keys: string[], onUnreadable?: (error: CorruptShardError) => void): Promise<ShardManifest[]> {
  const manifests: Array<ShardManifest | undefined> = [];
  let next = 0;
  const reader = async () => {
    for (let i = next++; i < keys.length; i = next++) {
      const bytes = await store.get(keys[i]!);
      try {
        manifests[i] = parseManifest(bytes, keys[i]!, store.url);
      } catch (error) {
        if (!onUnreadable) throw error;
        onUnreadable(new CorruptShardError((error as Error).message, { cause: error }));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(MANIFESTS_AT_ONCE, keys.length) }, reader));
  return manifests.filter((manifest) => manifest !== undefined);
}

/** A manifest's JSON, checked: its store and key are in every error. */
function parseManifest(bytes: Uint8Array, key: string, storeUrl: string): ShardManifest {
  const name = `${storeUrl}/${key}`;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new Error(`shard manifest ${name}: not JSON (${(error as Error).message})`, { cause: error });
  }
  const manifest = value as Record<string, unknown>;
  const fail = (what: string) => new Error(`shard manifest ${name}: ${what}`);
  if (typeof value !== 'object' || value === null) throw fail('not a JSON object');
  if (manifest.format !== SHARD_FORMAT) throw fail(`format is ${JSON.stringify(manifest.format)}, not ${JSON.stringify(SHARD_FORMAT)}`);
  for (const key of ['id', 'field', 'dataKey', 'sha256'] as const) if (typeof manifest[key] !== 'string') throw fail(`${key} is not a string`);
  // A shard is read, and removed once compacted, by its dataKey: one naming another object (another
  // prefix's shard, copied here by a writer of the store) would have it read here and removed there.
  if (manifest.dataKey !== dataKeyOf(key)) throw fail(`its data object is ${JSON.stringify(manifest.dataKey)}, not the object beside it (${dataKeyOf(key)})`);
  for (const key of ['from', 'to', 'createdAt'] as const) if (typeof manifest[key] !== 'string' || Number.isNaN(Date.parse(manifest[key]))) throw fail(`${key} is not a time`);
  for (const key of ['count', 'height', 'width', 'bytes'] as const) if (!Number.isInteger(manifest[key]) || (manifest[key] as number) < 0) throw fail(`${key} is not a whole number`);
  if (!ENCODINGS.includes(manifest.encoding as never)) throw fail(`encoding ${JSON.stringify(manifest.encoding)} is not one of ${ENCODINGS.join(', ')}`);
  const normalization = manifest.normalization as Record<string, unknown> | null;
  if (typeof normalization !== 'object' || normalization === null || !['missingValue', 'clipMin', 'clipMax', 'scale'].every((key) => typeof normalization[key] === 'number')) throw fail('normalization is not {missingValue, clipMin, clipMax, scale}');
  return value as ShardManifest;
}
