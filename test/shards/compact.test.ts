import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { testCredentials } from '../../infra/s3-server.js';
import { SEED_NORMALIZATION } from '../../model/config.js';
import { openShardCatalog } from '../../shards/catalog.js';
import { compactShards } from '../../shards/compact.js';
import type { ShardEncoding, ShardManifest, ShardRow } from '../../shards/types.js';
import { createShardWriter } from '../../shards/writer.js';
import type { ObjectStore } from '../../store/object-store.js';
import { silentLogger } from '../../stages/stage.js';
import { CHECKPOINT_FORMAT } from '../../training/checkpoints.js';
import { runCommandProcess } from '../support/cli-process.js';
import { storeKinds } from '../support/stores.js';
import { FIELD, hour, testRow } from './rows.js';

const setup = await storeKinds();
after(() => setup.stop());

const s3Env = { AWS_ENDPOINT_URL: setup.server.endpoint, AWS_ACCESS_KEY_ID: testCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey, AWS_REGION: 'us-east-1' };
const DAY = 24;
/** 2019-09-20T00Z plus `hours`, from the writer's clock: shards made later are listed later. */
let clock = Date.UTC(2019, 8, 25);

/** Writes `rows` as one shard, made after every shard written before it. */
async function shardOf(store: ObjectStore, rows: ShardRow[], encoding: ShardEncoding = 'float16'): Promise<ShardManifest> {
  const madeAt = (clock += 60_000);
  const writer = createShardWriter({ store, normalization: SEED_NORMALIZATION, encoding, now: () => madeAt });
  for (const row of rows) await writer.append(row);
  const [manifest] = await writer.close();
  return manifest!;
}

async function rowsOf(store: ObjectStore): Promise<ShardRow[]> {
  const catalog = openShardCatalog(store);
  const rows: ShardRow[] = [];
  for (const manifest of await catalog.list({ field: FIELD })) for await (const row of catalog.read(manifest)) rows.push(row);
  return rows;
}

async function keysIn(store: ObjectStore): Promise<string[]> {
  const keys = [];
  for await (const { key } of store.list('shards/')) keys.push(key);
  return keys.sort();
}

const locationOf = (store: ObjectStore) => (store.url.startsWith('file://') ? decodeURIComponent(new URL(store.url).pathname) : store.url);

for (const kind of setup.kinds) {
  describe(`shard compaction: ${kind.name}`, () => {
    it("merges each ended day's shards into one, in valid-time order, a valid time once (from the shard written first), and removes the merged shards", async () => {
      const store = await kind.create();
      const first = await shardOf(store, [testRow(hour(0))]);
      const second = await shardOf(store, [testRow(hour(1)), testRow(hour(2))]);
      // Hour 2 again, from another source with other values: a re-run. The earlier one is kept.
      const rerun = await shardOf(store, [{ ...testRow(hour(2), { seed: 99 }), source: 'a re-run' }, testRow(hour(3))]);
      const lone = await shardOf(store, [testRow(hour(DAY + 5))]);
      const today = [await shardOf(store, [testRow(hour(2 * DAY))]), await shardOf(store, [testRow(hour(2 * DAY + 1))])];

      const compacted = await compactShards({ store, field: FIELD, before: hour(2 * DAY + 3) });
      assert.deepEqual(compacted.map(({ day, replaced, duplicates }) => ({ day, replaced, duplicates })), [{ day: '2019-09-20', replaced: [first.id, second.id, rerun.id], duplicates: 1 }]);
      const merged = compacted[0]!.shard;
      assert.deepEqual([merged.from, merged.to, merged.count], [hour(0).toISOString(), hour(3).toISOString(), 4]);
      const listed = await openShardCatalog(store).list({ field: FIELD });
      assert.deepEqual(listed.map((m) => m.id), [merged.id, lone.id, ...today.map((m) => m.id)]);
      assert.deepEqual(await rowsOf(store), [0, 1, 2, 3, DAY + 5, 2 * DAY, 2 * DAY + 1].map((hours) => testRow(hour(hours))));
      const keys = await keysIn(store);
      for (const old of [first, second, rerun]) assert.ok(!keys.some((key) => key.includes(old.id)), `${old.id} is still in the store`);

      assert.deepEqual(await compactShards({ store, field: FIELD, before: hour(2 * DAY + 3) }), [], 'a second compaction finds nothing to do');
    });

    it('leaves a day alone while an unfinished run planned on one of its shards, and merges days of other encodings apart', async () => {
      const store = await kind.create();
      const planned = await shardOf(store, [testRow(hour(0))]);
      await shardOf(store, [testRow(hour(1))]);
      const float16 = [await shardOf(store, [testRow(hour(DAY))]), await shardOf(store, [testRow(hour(DAY + 1))])];
      const uint8 = [await shardOf(store, [testRow(hour(DAY + 2))], 'uint8'), await shardOf(store, [testRow(hour(DAY + 3))], 'uint8')];

      const compacted = await compactShards({ store, field: FIELD, before: hour(3 * DAY), keep: new Set([planned.id]) });
      assert.deepEqual(compacted.map(({ day, replaced, shard }) => [day, replaced, shard.encoding, shard.count]), [
        ['2019-09-21', float16.map((m) => m.id), 'float16', 2],
        ['2019-09-21', uint8.map((m) => m.id), 'uint8', 2],
      ]);
      assert.equal((await openShardCatalog(store).list({ field: FIELD, to: hour(2) })).length, 2, 'the planned-on day keeps its two shards');
    });

    it('leaves a day holding a shard whose object fails its checks as it is, naming the shard, and compacts the other days', async () => {
      const store = await kind.create();
      const corrupt = await shardOf(store, [testRow(hour(0))]);
      const beside = await shardOf(store, [testRow(hour(1))]);
      const nextDay = [await shardOf(store, [testRow(hour(DAY))]), await shardOf(store, [testRow(hour(DAY + 1))])];
      const bytes = await store.get(corrupt.dataKey);
      bytes[bytes.length - 9]! ^= 0xff;
      await store.put(corrupt.dataKey, bytes);

      const errors: string[] = [];
      const log = { ...silentLogger, error: (_: object, message?: string) => void errors.push(message ?? '') };
      const compacted = await compactShards({ store, field: FIELD, before: hour(3 * DAY), log });
      assert.deepEqual(compacted.map(({ day, replaced }) => [day, replaced]), [['2019-09-21', nextDay.map((m) => m.id)]]);
      assert.match(errors.join('\n'), new RegExp(`day not compacted: shard ${corrupt.id}: .* has SHA-256 `));
      assert.deepEqual((await openShardCatalog(store).list({ field: FIELD, to: hour(2) })).map((m) => m.id), [corrupt.id, beside.id]);
    });
  });
}

describe('hrrr-embed shards compact', () => {
  it('compacts under the trainer lease, prints a line per day, and spares the days of an unfinished run', async () => {
    const kind = setup.kinds[1]!;
    const [store, models] = [await kind.create(), await kind.create()];
    const planned = [await shardOf(store, [testRow(hour(0))]), await shardOf(store, [testRow(hour(1))])];
    const free = [await shardOf(store, [testRow(hour(DAY))]), await shardOf(store, [testRow(hour(DAY + 1))])];
    const plan = { runId: 'stopped-run', train: [planned[0]!.id], heldOut: [free[0]!.id] };
    await models.put('training/stopped-run/latest.json', new TextEncoder().encode(JSON.stringify({ step: 10, checkpoint: 'training/stopped-run/checkpoints/000000010/' })));
    await models.put('training/stopped-run/checkpoints/000000010/state.json', new TextEncoder().encode(JSON.stringify({ format: CHECKPOINT_FORMAT, plan })));
    const args = ['shards', 'compact', '--store', locationOf(store), '--models', locationOf(models), '--before', '2019-09-23T00Z'];

    const held = await runCommandProcess(args, { env: s3Env });
    assert.equal(held.status, 0, held.stderr);
    assert.deepEqual(held.lines, [], 'both days hold a shard of the stopped run');

    await models.put('training/stopped-run/latest.json', new TextEncoder().encode(JSON.stringify({ step: 10, checkpoint: 'training/stopped-run/checkpoints/000000010/', finished: {} })));
    const done = await runCommandProcess(args, { env: s3Env });
    assert.equal(done.status, 0, done.stderr);
    const lines = done.lines as Array<{ day: string; rows: number; replaced: string[]; duplicates: number }>;
    assert.deepEqual(lines.map(({ day, rows, replaced, duplicates }) => ({ day, rows, replaced, duplicates })), [
      { day: '2019-09-20', rows: 2, replaced: planned.map((m) => m.id), duplicates: 0 },
      { day: '2019-09-21', rows: 2, replaced: free.map((m) => m.id), duplicates: 0 },
    ]);
    const lease = [];
    for await (const { key } of models.list('trainer-lease/')) lease.push(JSON.parse(new TextDecoder().decode(await models.get(key))) as { expiresAt: string });
    assert.equal(lease.length, 2, 'each run took the lease');
    assert.ok(lease.every(({ expiresAt }) => Date.parse(expiresAt) <= Date.now()), 'and let it go');
  });

  it('exits 2 naming a wrong command line', async () => {
    for (const [args, message] of [
      [['shards', 'compact'], /shards compact: --models is required/],
      [['shards', 'compact', '--models', '/tmp/m', '--from', '2019-09-20T00Z'], /--from is for shards list/],
      [['shards', 'list', '--models', '/tmp/m'], /--models is for shards compact/],
      [['shards', 'compact', '--models', '/tmp/m', '--before', 'soon'], /--before: "soon" is not an hour/],
    ] as const) {
      const result = await runCommandProcess([...args]);
      assert.equal(result.status, 2, args.join(' '));
      assert.match(result.stderr, message);
    }
  });
});
