import { createHash } from 'node:crypto';
import type { StageLogger } from '../stages/stage.js';
import type { ObjectStore } from '../store/object-store.js';
import { shardToIPC, type EncodedRow, type ShardLayout } from './arrow.js';
import { newShardKeys } from './layout.js';
import { SHARD_FORMAT, type ShardCompression, type ShardManifest } from './types.js';

export interface PutShardOptions {
  prefix: string;
  layout: ShardLayout;
  /** In valid-time order. */
  rows: readonly EncodedRow[];
  compression: ShardCompression;
  createdAt: Date;
  log: StageLogger;
}

/**
 * Writes rows as a new shard: its Arrow object first, its manifest last, since readers list
 * manifests: a shard is visible whole or not at all. An object whose manifest could not be
 * written is removed again.
 */
export async function putShard(store: ObjectStore, { prefix, layout, rows, compression, createdAt, log }: PutShardOptions): Promise<ShardManifest> {
  const from = rows[0]!.validTime;
  const to = rows.at(-1)!.validTime;
  const body = shardToIPC(layout, rows, compression);
  const { id, dataKey, manifestKey } = newShardKeys(prefix, layout.field, from, to);
  const manifest: ShardManifest = {
    format: SHARD_FORMAT,
    id,
    field: layout.field,
    dataKey,
    from: from.toISOString(),
    to: to.toISOString(),
    count: rows.length,
    height: layout.height,
    width: layout.width,
    encoding: layout.encoding,
    normalization: layout.normalization,
    bytes: body.length,
    sha256: createHash('sha256').update(body).digest('hex'),
    createdAt: createdAt.toISOString(),
  };
  await store.put(dataKey, body, { contentType: 'application/vnd.apache.arrow.file' });
  try {
    await store.put(manifestKey, new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`), { contentType: 'application/json' });
  } catch (error) {
    await store.delete(dataKey).catch(() => log.warn({ object: `${store.url}/${dataKey}` }, 'a shard whose manifest failed to be written left its data object'));
    throw error;
  }
  log.info({ shard: `${store.url}/${manifestKey}`, count: manifest.count, bytes: manifest.bytes, from: manifest.from, to: manifest.to }, 'shard written');
  return manifest;
}
