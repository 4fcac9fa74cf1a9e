import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SEED_NORMALIZATION } from '../../model/config.js';
import { CorruptShardError, openShardCatalog } from '../../shards/catalog.js';
import type { ShardCatalog, ShardEncoding, ShardManifest, ShardRow } from '../../shards/types.js';
import { createShardWriter, type ShardWriterOptions } from '../../shards/writer.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import type { ObjectStore } from '../../store/object-store.js';
import { repoRoot } from '../paths.js';
import { storeKinds } from '../support/stores.js';
import { FIELD, hour, testRow } from './rows.js';

const setup = await storeKinds();
after(() => setup.stop());

const writerOn = (store: ObjectStore, options: Partial<ShardWriterOptions> = {}) => createShardWriter({ store, normalization: SEED_NORMALIZATION, ...options });

async function rowsOf(catalog: ShardCatalog, manifests: ShardManifest[]): Promise<ShardRow[]> {
  const rows: ShardRow[] = [];
  for (const manifest of manifests) for await (const row of catalog.read(manifest)) rows.push(row);
  return rows;
}

const hoursOf = (manifests: ShardManifest[]) => manifests.map((m) => [m.from, m.to, m.count]);
const iso = (hours: number) => hour(hours).toISOString();

async function keysIn(store: ObjectStore, prefix = 'shards/'): Promise<string[]> {
  const keys = [];
  for await (const { key } of store.list(prefix)) keys.push(key);
  return keys;
}

for (const kind of setup.kinds) {
  describe(`shards: ${kind.name}`, () => {
    let store: ObjectStore;
    before(async () => {
      store = await kind.create();
    });

    for (const encoding of ['float32', 'float16', 'uint8'] as ShardEncoding[]) {
      it(`gives back in valid-time order the rows written in any order (${encoding}: ${encoding === 'uint8' ? 'within half a step' : 'exactly'})`, async () => {
        const prefix = `roundtrip-${encoding}/`;
        const rows = [testRow(hour(2)), testRow(hour(0)), testRow(hour(1))];
        const writer = writerOn(store, { prefix, encoding });
        for (const row of rows) await writer.append(row);
        const [manifest, ...more] = await writer.close();
        assert.equal(more.length, 0);
        assert.deepEqual(await openShardCatalog(store, prefix).list({ field: FIELD }), [manifest]);
        assert.equal(manifest!.dataKey, `${prefix}REFC_entire_atmosphere_anl/2019/09/${manifest!.id}.arrow`);
        assert.deepEqual([manifest!.from, manifest!.to, manifest!.count, manifest!.encoding, manifest!.height, manifest!.width], [iso(0), iso(2), 3, encoding, 5, 7]);
        const read = await rowsOf(openShardCatalog(store, prefix), [manifest!]);
        const expected = [rows[1]!, rows[2]!, rows[0]!];
        assert.deepEqual(read.map((r) => [r.validTime, r.field, r.source, r.height, r.width]), expected.map((r) => [r.validTime, r.field, r.source, r.height, r.width]));
        read.forEach((row, i) => {
          if (encoding !== 'uint8') return assert.deepEqual(row.values, expected[i]!.values);
          for (let k = 0; k < row.values.length; k++) assert.ok(Math.abs(row.values[k]! - expected[i]!.values[k]!) <= 1 / 255 / 2 + 1e-7);
        });
      });
    }

    it('rolls over by row count: full shards are listed while the open one is still in memory', async () => {
      const prefix = 'by-count/';
      const writer = writerOn(store, { prefix, rollover: { maxRows: 2 } });
      for (let i = 0; i < 5; i++) await writer.append(testRow(hour(i)));
      const shards = openShardCatalog(store, prefix);
      assert.deepEqual(hoursOf(await shards.list({ field: FIELD })), [[iso(0), iso(1), 2], [iso(2), iso(3), 2]]);
      await writer.close();
      assert.deepEqual(hoursOf(await shards.list({ field: FIELD })), [[iso(0), iso(1), 2], [iso(2), iso(3), 2], [iso(4), iso(4), 1]]);
      await assert.rejects(writer.append(testRow(hour(5))), /the shard writer is closed/);
    });

    it('rolls over by size: encoded values and sources', async () => {
      const prefix = 'by-size/';
      const row = testRow(hour(0));
      const rowBytes = row.values.length * 2 + Buffer.byteLength(row.source);
      const writer = writerOn(store, { prefix, rollover: { maxBytes: 3 * rowBytes } });
      for (let i = 0; i < 7; i++) await writer.append(testRow(hour(i)));
      await writer.close();
      assert.deepEqual(hoursOf(await openShardCatalog(store, prefix).list({ field: FIELD })), [[iso(0), iso(2), 3], [iso(3), iso(5), 3], [iso(6), iso(6), 1]]);
    });

    it('rolls over by age: on the next append once the open shard is old, and by its timer when no row comes', async () => {
      const prefix = 'by-age/';
      let now = 0;
      const writer = writerOn(store, { prefix, rollover: { maxAgeMs: 3_600_000 }, now: () => now });
      await writer.append(testRow(hour(0)));
      now = 1_800_000;
      await writer.append(testRow(hour(1)));
      now = 3_600_000;
      await writer.append(testRow(hour(2)));
      await writer.close();
      assert.deepEqual(hoursOf(await openShardCatalog(store, prefix).list({ field: FIELD })), [[iso(0), iso(1), 2], [iso(2), iso(2), 1]]);

      const timed = writerOn(store, { prefix: 'by-age-timer/', rollover: { maxAgeMs: 50 } });
      await timed.append(testRow(hour(0)));
      const shards = openShardCatalog(store, 'by-age-timer/');
      let listed: ShardManifest[] = [];
      for (let tries = 0; tries < 200 && listed.length === 0; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        listed = await shards.list({ field: FIELD });
      }
      assert.deepEqual(hoursOf(listed), [[iso(0), iso(0), 1]]);
      assert.deepEqual(await timed.close(), []);
    });

    it("rolls over at a UTC day's end (and so a month's), and when a row's size differs: a shard never spans days", async () => {
      const prefix = 'by-day/';
      const writer = writerOn(store, { prefix });
      for (const hours of [9 * 24 + 22, 9 * 24 + 23, 10 * 24, 10 * 24 + 23, 11 * 24]) await writer.append(testRow(hour(hours)));
      await writer.append(testRow(hour(11 * 24 + 1), { height: 3 }));
      await writer.close();
      const keys = (await keysIn(store, prefix)).filter((key) => key.endsWith('.manifest.json'));
      assert.deepEqual(keys.map((key) => key.split('/').slice(2, 4).join('/')), ['2019/09', '2019/09', '2019/10', '2019/10']);
      assert.deepEqual(hoursOf(await openShardCatalog(store, prefix).list({ field: FIELD })), [
        [iso(9 * 24 + 22), iso(9 * 24 + 23), 2],
        [iso(10 * 24), iso(10 * 24 + 23), 2],
        [iso(11 * 24), iso(11 * 24), 1],
        [iso(11 * 24 + 1), iso(11 * 24 + 1), 1],
      ]);
    });

    it('lists the shards overlapping a time range, oldest first, reading only the manifests of its months', async () => {
      const prefix = 'by-range/';
      const writer = writerOn(store, { prefix });
      // Sep 19 to Oct 2 every 12 hours (two rows a shard: a day's), and another field.
      for (let i = -2; i < 26; i++) await writer.append(testRow(hour(i * 12)));
      await writer.append({ ...testRow(hour(0)), field: 'TMP:2 m above ground:anl' });
      await writer.close();
      const gets: string[] = [];
      const counting: ObjectStore = { url: store.url, list: (p, o) => store.list(p, o), head: (k) => store.head(k), put: (k, b) => store.put(k, b), delete: (k) => store.delete(k), get: (k, o) => (gets.push(k), store.get(k, o)) };
      const shards = openShardCatalog(counting, prefix);
      const all = await shards.list({ field: FIELD });
      assert.equal(all.reduce((sum, m) => sum + m.count, 0), 28);
      assert.deepEqual(all.map((m) => m.from), [...all.map((m) => m.from)].sort());
      const inRange = await shards.list({ field: FIELD, from: hour(-24), to: hour(12) });
      assert.deepEqual(hoursOf(inRange), [[iso(-24), iso(-12), 2], [iso(0), iso(12), 2]]);
      gets.length = 0;
      assert.deepEqual(hoursOf(await shards.list({ field: FIELD, from: new Date('2019-10-01T12:00Z'), to: new Date('2019-10-05T00:00Z') })), [[iso(11 * 24), iso(11 * 24 + 12), 2], [iso(12 * 24), iso(12 * 24 + 12), 2]]);
      assert.ok(gets.every((key) => key.includes('/2019/10/')), `read ${gets.join(', ')}`);
      assert.deepEqual(await shards.list({ field: FIELD, from: new Date('2019-11-01T00:00Z') }), []);
      assert.deepEqual(hoursOf(await shards.list({ field: 'TMP:2 m above ground:anl' })), [[iso(0), iso(0), 1]]);
    });

    it('refuses a corrupt, truncated or missing data object, naming the shard', async () => {
      const prefix = 'corrupt/';
      const writer = writerOn(store, { prefix });
      await writer.append(testRow(hour(0)));
      const [manifest] = await writer.close();
      const shards = openShardCatalog(store, prefix);
      const good = await store.get(manifest!.dataKey);
      const flipped = good.slice();
      flipped[good.length - 100]! ^= 0xff;
      await store.put(manifest!.dataKey, flipped);
      await assert.rejects(rowsOf(shards, [manifest!]), (error: Error) => error instanceof CorruptShardError && new RegExp(`shard ${manifest!.id}: .*${manifest!.dataKey} has SHA-256 [0-9a-f]{64}, its manifest says ${manifest!.sha256}: the object is corrupt`).test(error.message));
      await store.put(manifest!.dataKey, good.subarray(0, 100));
      await assert.rejects(rowsOf(shards, [manifest!]), (error: Error) => error instanceof CorruptShardError && new RegExp(`shard ${manifest!.id}: .* is 100 bytes, its manifest says ${manifest!.bytes}`).test(error.message));
      await store.delete(manifest!.dataKey);
      await assert.rejects(rowsOf(shards, [manifest!]), (error: Error) => error instanceof CorruptShardError && new RegExp(`shard ${manifest!.id}: its data object .* is missing`).test(error.message));
    });

    it('refuses a manifest that is not one, naming its key', async () => {
      const prefix = 'bad-manifest/';
      await store.put(`${prefix}REFC_entire_atmosphere_anl/2019/09/part-x.manifest.json`, new TextEncoder().encode('{"format": "something else"}'));
      await assert.rejects(openShardCatalog(store, prefix).list({ field: FIELD }), /shard manifest .*part-x.manifest.json: format is "something else", not "hrrr-embed-shard\/1"/);
    });

    it('with onUnreadableManifest, lists the other shards and tells of the manifest that is not one', async () => {
      const prefix = 'bad-manifest-beside-good/';
      const writer = writerOn(store, { prefix });
      await writer.append(testRow(hour(0)));
      await writer.close();
      await store.put(`${prefix}REFC_entire_atmosphere_anl/2019/09/part-x.manifest.json`, new TextEncoder().encode('not json'));
      const unreadable: Error[] = [];
      const listed = await openShardCatalog(store, prefix, { onUnreadableManifest: (error) => unreadable.push(error) }).list({ field: FIELD });
      assert.equal(listed.length, 1);
      assert.deepEqual(unreadable.map((error) => [error instanceof CorruptShardError, /part-x.manifest.json/.test(error.message)]), [[true, true]]);
    });

    it('removes the data object of a shard whose manifest failed to be written, and keeps nothing of the failed append', async () => {
      const prefix = 'orphan/';
      let failManifests = true;
      const failing: ObjectStore = { ...store, url: store.url, list: (p, o) => store.list(p, o), head: (k) => store.head(k), get: (k, o) => store.get(k, o), delete: (k) => store.delete(k), put: async (k, b, o) => (failManifests && k.endsWith('.manifest.json') ? Promise.reject(new Error('the store went away')) : store.put(k, b, o)) };
      const writer = writerOn(failing, { prefix, rollover: { maxRows: 1 } });
      await assert.rejects(writer.append(testRow(hour(0))), /the store went away/);
      assert.deepEqual(await keysIn(store, prefix), []);
      assert.deepEqual(await openShardCatalog(store, prefix).list({ field: FIELD }), []);
      failManifests = false;
      assert.deepEqual(await writer.close(), []);
    });

    it('lists both shards of a valid time written twice (a re-run): the catalog does not deduplicate', async () => {
      const prefix = 'rerun/';
      for (const run of [1, 2]) {
        const writer = writerOn(store, { prefix, now: () => Date.UTC(2026, 0, run) });
        await writer.append(testRow(hour(5)));
        await writer.close();
      }
      const listed = await openShardCatalog(store, prefix).list({ field: FIELD, from: hour(5), to: hour(5) });
      assert.deepEqual(listed.map((m) => [m.from, m.createdAt]), [[iso(5), '2026-01-01T00:00:00.000Z'], [iso(5), '2026-01-02T00:00:00.000Z']]);
    });

    it('keeps each appended row in the store until its shard is written: a later writer puts the rows of one that stopped without closing into shards of its rollover size', async () => {
      const prefix = 'recover-stopped/';
      const stopped = writerOn(store, { prefix });
      for (let i = 0; i < 5; i++) await stopped.append(testRow(hour(i)));
      assert.equal((await keysIn(store, `${prefix}.pending/`)).length, 5);
      assert.deepEqual(await openShardCatalog(store, prefix).list({ field: FIELD }), []);

      // A writer recovers as it starts; recoverPending() runs after that, and so waits for it.
      const later = writerOn(store, { prefix, rollover: { maxRows: 2 }, orphanAfterMs: 0 });
      await later.recoverPending();
      const catalog = openShardCatalog(store, prefix);
      const listed = await catalog.list({ field: FIELD });
      assert.deepEqual(hoursOf(listed), [[iso(0), iso(1), 2], [iso(2), iso(3), 2], [iso(4), iso(4), 1]]);
      assert.deepEqual(await rowsOf(catalog, listed), [0, 1, 2, 3, 4].map((i) => testRow(hour(i))));
      assert.deepEqual(await keysIn(store, `${prefix}.pending/`), []);
      assert.deepEqual(await later.close(), []);
    });

    it("leaves alone the pending rows of a writer still running, its own included, and removes them once they are in a shard", async () => {
      const prefix = 'recover-running/';
      const running = writerOn(store, { prefix, orphanAfterMs: 0 });
      await running.append(testRow(hour(0)));
      await running.append(testRow(hour(1)));
      assert.deepEqual(await writerOn(store, { prefix }).recoverPending(), [], 'rows younger than twice the rollover age belong to a running writer');
      assert.deepEqual(await running.recoverPending(), [], "a writer's own rows are never recovered");
      assert.equal((await keysIn(store, `${prefix}.pending/`)).length, 2);
      const [written, ...more] = await running.close();
      assert.equal(more.length, 0);
      assert.deepEqual([written!.from, written!.to, written!.count], [iso(0), iso(1), 2]);
      assert.deepEqual(await keysIn(store, `${prefix}.pending/`), []);
    });

    it('keeps once a row appended again after its writer stopped (a redelivered analysis): its pending copy is replaced, not doubled', async () => {
      const prefix = 'recover-redelivered/';
      await writerOn(store, { prefix }).append(testRow(hour(3)));
      const again = writerOn(store, { prefix });
      await again.append(testRow(hour(3)));
      assert.equal((await keysIn(store, `${prefix}.pending/`)).length, 1);
      await again.close();
      assert.deepEqual(await writerOn(store, { prefix, orphanAfterMs: 0 }).recoverPending(), []);
      const catalog = openShardCatalog(store, prefix);
      assert.deepEqual(await rowsOf(catalog, await catalog.list({ field: FIELD })), [testRow(hour(3))]);
    });

    it('leaves a pending row it cannot read where it is, naming it in the log, and still recovers the others', async () => {
      const prefix = 'recover-unreadable/';
      const junkKey = `${prefix}.pending/REFC_entire_atmosphere_anl/20190920T0000Z-0000000000000000.arrow`;
      await store.put(junkKey, new TextEncoder().encode('not an Arrow file'));
      await writerOn(store, { prefix }).append(testRow(hour(1)));
      const errors: string[] = [];
      const log = { ...silentLogger, error: (fields: object, message?: string) => void errors.push(`${message} ${JSON.stringify(fields)}`) };
      await writerOn(store, { prefix, orphanAfterMs: 0, log }).recoverPending();
      assert.deepEqual(hoursOf(await openShardCatalog(store, prefix).list({ field: FIELD })), [[iso(1), iso(1), 1]]);
      assert.deepEqual(await keysIn(store, `${prefix}.pending/`), [junkKey]);
      assert.match(errors.join('\n'), /a pending row that cannot be read is left where it is .*20190920T0000Z-0000000000000000\.arrow/);
    });

    it('refuses a row whose values do not fill its height x width, naming it', async () => {
      const writer = writerOn(store, { prefix: 'bad-row/' });
      await assert.rejects(writer.append({ ...testRow(hour(0)), height: 6 }), /row REFC:entire atmosphere:anl valid 2019-09-20T00:00:00.000Z: 35 values for 6 x 7/);
      await assert.rejects(writer.append({ ...testRow(hour(0)), validTime: new Date(Number.NaN) }), /its valid time is not a date/);
      assert.deepEqual(await writer.close(), []);
    });
  });
}

describe('shards: written before compression', () => {
  it('reads exactly the rows of a shard written as one uncompressed record batch (before zstd and one batch per row)', async () => {
    const store = new FolderStore(join(repoRoot, 'test', 'shards', 'fixtures', 'one-batch-uncompressed'));
    const catalog = openShardCatalog(store);
    const manifests = await catalog.list({ field: FIELD });
    assert.deepEqual(hoursOf(manifests), [[iso(0), iso(2), 3]]);
    const rows = await rowsOf(catalog, manifests);
    const expected = [0, 1, 2].map((hours) => testRow(hour(hours)));
    assert.deepEqual(rows.map((row) => [row.validTime, row.source, row.values]), expected.map((row) => [row.validTime, row.source, row.values]));
  });
});
