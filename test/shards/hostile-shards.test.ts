import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CompressionType, compressionRegistry, Schema, Table, tableFromIPC, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { SEED_NORMALIZATION } from '../../model/config.js';
import { CorruptShardError, openShardCatalog } from '../../shards/catalog.js';
import { compactShards } from '../../shards/compact.js';
import { manifestKeyOf } from '../../shards/layout.js';
import { putShard } from '../../shards/put-shard.js';
import type { ShardEncoding, ShardManifest, ShardRow } from '../../shards/types.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { leavingOutCorruptShards } from '../../training/corrupt-shards.js';
import { FIELD, hour } from './rows.js';

const root = mkdtempSync(join(tmpdir(), 'hostile-shards-'));
after(() => rmSync(root, { recursive: true, force: true }));
const store = new FolderStore(root);
const catalog = openShardCatalog(store);
const layout = (encoding: ShardEncoding, side: number) => ({ field: FIELD, height: side, width: side, encoding, normalization: SEED_NORMALIZATION });

/** A shard of one row holding `values`, whatever its manifest's `side` x `side` says; its checksum matches. */
function shardOf(values: Float32Array, hours = 0, side = 10): Promise<ShardManifest> {
  return putShard(store, { prefix: 'shards/', layout: layout('float32', side), rows: [{ validTime: hour(hours), source: 'x', values }], compression: 'zstd', createdAt: new Date(), log: silentLogger });
}

/** Replaces a shard's bytes and rewrites its manifest to match them, as a writer of its own would. */
async function rewritten(manifest: ShardManifest, bytes: Uint8Array, changes: Partial<ShardManifest>): Promise<ShardManifest> {
  const changed = { ...manifest, ...changes, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  await store.put(manifest.dataKey, bytes);
  await store.put(manifestKeyOf(manifest.dataKey), new TextEncoder().encode(JSON.stringify(changed)));
  return changed;
}

async function rowsOf(manifest: ShardManifest, from = catalog): Promise<ShardRow[]> {
  const rows = [];
  for await (const row of from.read(manifest)) rows.push(row);
  return rows;
}

describe('a shard whose checksum matches but whose Arrow file is not what its manifest says', () => {
  it('with a values column holding 50 values for a row of 10 x 10 is a CorruptShardError naming it: it was read as a row of 50 values', async () => {
    const short = await shardOf(new Float32Array(50));
    await assert.rejects(rowsOf(short), (error: unknown) => {
      assert.ok(error instanceof CorruptShardError, String(error));
      assert.match(error.message, new RegExp(`shard ${short.id}: shard .*${short.dataKey}: its values column holds 50 values, not the 100 of its 1 row of 10 x 10`));
      return true;
    });
  });

  it('with float32 values where its metadata and manifest say float16 is a CorruptShardError naming both types: it was decoded into NaNs', async () => {
    const manifest = await shardOf(new Float32Array(100).fill(0.5), 1);
    const bytes = Buffer.from(await store.get(manifest.dataKey));
    for (let at = bytes.indexOf('float32'); at >= 0; at = bytes.indexOf('float32', at)) bytes.write('float16', at);
    const relabelled = await rewritten(manifest, bytes, { encoding: 'float16' });
    await assert.rejects(rowsOf(relabelled), (error: unknown) => {
      assert.ok(error instanceof CorruptShardError, String(error));
      assert.match(error.message, /its values column is FixedSizeList\[100\]<Float32>, not the FixedSizeList\[100\]<Float16> of 10 x 10 float16/);
      return true;
    });
  });

  it('with a validTime column of strings is a CorruptShardError naming the column and its type: its rows were read as Invalid Dates', async () => {
    const manifest = await shardOf(new Float32Array(100), 4);
    const table = tableFromIPC(await store.get(manifest.dataKey));
    const columns = new Table({ validTime: vectorFromArray(['2019-09-20T04:00Z'], new Utf8()), source: table.getChild('source')!, values: table.getChild('values')! });
    const bytes = tableToIPC(new Table(new Schema(columns.schema.fields, table.schema.metadata), columns.batches), 'file');
    const restyled = await rewritten(manifest, bytes, {});
    await assert.rejects(rowsOf(restyled), (error: unknown) => {
      assert.ok(error instanceof CorruptShardError, String(error));
      assert.match(error.message, /its validTime column is Utf8, not a timestamp for every row/);
      return true;
    });
  });

  it('among good shards, is left out by a training run with an error naming it, as the README says, and the good rows are read', async () => {
    const good = await shardOf(new Float32Array(100).fill(0.25), 2);
    const bad = await shardOf(new Float32Array(50), 3);
    const logged: string[] = [];
    const log = { ...silentLogger, error: (_fields: object, message: string) => void logged.push(message) };
    const training = leavingOutCorruptShards(catalog, log);
    assert.deepEqual((await rowsOf(good, training)).map((row) => row.values.length), [100]);
    assert.deepEqual(await rowsOf(bad, training), []);
    assert.deepEqual(logged.map((message) => message.startsWith(`shard left out: shard ${bad.id}:`)), [true]);
  });
});

describe('a shard whose zstd buffer expands to far more than any field', () => {
  /** A zstd frame of `size` bytes of 7 in RLE blocks of 128 KiB, its size in its header: 4 bytes a block. */
  function zstdBomb(size: number): Uint8Array {
    const blockBytes = 128 * 1024;
    const blocks = Math.ceil(size / blockBytes);
    const frame = Buffer.alloc(13 + 4 * blocks);
    frame.writeUInt32LE(0xfd2fb528, 0);
    frame[4] = 0xe0; // an 8-byte content size, a single segment
    frame.writeBigUInt64LE(BigInt(size), 5);
    for (let i = 0; i < blocks; i++) {
      const last = i === blocks - 1 ? 1 : 0;
      frame.writeUIntLE(last | (1 << 1) | (Math.min(blockBytes, size - i * blockBytes) << 3), 13 + 4 * i, 3);
      frame[16 + 4 * i] = 7;
    }
    return frame;
  }

  it('is refused before it is expanded, naming the shard and the size claimed: 256 MiB from 8 KiB were expanded into memory WebAssembly never gives back', async () => {
    const zstd = compressionRegistry.get(CompressionType.ZSTD)!;
    // The row's 100 x 100 float32 values (40000 bytes) written as the bomb (smaller, so the writer keeps it), every other buffer as it is.
    compressionRegistry.set(CompressionType.ZSTD, { encode: (data) => (data.byteLength === 40_000 ? zstdBomb(256 * 2 ** 20) : zstd.encode!(data)), decode: zstd.decode! });
    let manifest: ShardManifest;
    try {
      manifest = await shardOf(new Float32Array(100 * 100), 4, 100);
    } finally {
      compressionRegistry.set(CompressionType.ZSTD, zstd);
    }
    assert.ok(manifest.bytes < 16 * 1024, `${manifest.bytes} bytes`);
    await assert.rejects(rowsOf(manifest), (error: unknown) => {
      assert.ok(error instanceof CorruptShardError, String(error));
      assert.match(error.message, new RegExp(`shard ${manifest.id}: .*a zstd buffer claims 268435456 bytes, more than the 67108864 a shard's buffer may have`));
      return true;
    });
  });
});

describe('a shard manifest whose data object is not the one beside it', () => {
  it('is refused, naming both keys, and compaction removes nothing of the shards it names elsewhere in the store', async () => {
    // Another deployment's shards in the same store, and a manifest copied from one of them into
    // this deployment's shards, by a writer of the store who could not delete them itself.
    const theirs = await putShard(store, { prefix: 'other/', layout: layout('float32', 10), rows: [{ validTime: hour(30), source: 'theirs', values: new Float32Array(100) }], compression: 'zstd', createdAt: new Date(), log: silentLogger });
    const ours = await putShard(store, { prefix: 'compacted/', layout: layout('float32', 10), rows: [{ validTime: hour(31), source: 'ours', values: new Float32Array(100) }], compression: 'zstd', createdAt: new Date(), log: silentLogger });
    const forgedKey = manifestKeyOf(ours.dataKey).replace(ours.id, 'part-copied');
    await store.put(forgedKey, new TextEncoder().encode(JSON.stringify({ ...theirs, id: 'part-copied' })));

    const refused: string[] = [];
    const listed = await openShardCatalog(store, 'compacted/', { onUnreadableManifest: (error) => refused.push(error.message) }).list({ field: FIELD });
    assert.deepEqual(listed.map((manifest) => manifest.id), [ours.id]);
    assert.equal(refused.length, 1);
    assert.match(refused[0]!, new RegExp(`shard manifest .*${forgedKey}: its data object is "${theirs.dataKey}", not the object beside it`));

    await compactShards({ store, field: FIELD, prefix: 'compacted/', before: hour(24 * 40), log: silentLogger }).catch(() => []);
    assert.ok(await store.head(theirs.dataKey), `${theirs.dataKey} was removed by another prefix's compaction`);
    assert.ok(await store.head(manifestKeyOf(theirs.dataKey)), 'its manifest was removed by another prefix\'s compaction');
  });
});
