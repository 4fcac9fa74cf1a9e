import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { testCredentials } from '../../infra/s3-server.js';
import { SEED_NORMALIZATION } from '../../model/config.js';
import { openShardCatalog } from '../../shards/catalog.js';
import { compactShards } from '../../shards/compact.js';
import { createShardWriter } from '../../shards/writer.js';
import { silentLogger } from '../../stages/stage.js';
import type { ShardManifest, ShardRow } from '../../shards/types.js';
import { repoRoot } from '../paths.js';
import { runCommandProcess } from '../support/cli-process.js';
import { storeKinds } from '../support/stores.js';
import { FIELD, hour, testRow } from './rows.js';

const setup = await storeKinds();
after(() => setup.stop());

const s3Env = { AWS_ENDPOINT_URL: setup.server.endpoint, AWS_ACCESS_KEY_ID: testCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey, AWS_REGION: 'us-east-1' };

/**
 * Runs test/shards/writer-process.ts, and SIGKILLs it once it has appended every row, before it
 * could close its writer; or, with `killAfter`, it kills itself right after that store write.
 */
function appendAndKill(store: string, rows: number, maxRows: number, killAfter?: string): Promise<NodeJS.Signals | null> {
  const child = spawn(process.execPath, [join(repoRoot, 'dist', 'test', 'shards', 'writer-process.js'), store, String(rows), String(maxRows), ...(killAfter ? [killAfter] : [])], {
    env: { ...process.env, ...s3Env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let pending = '';
  child.stdout.on('data', (chunk) => {
    pending += chunk;
    if (pending.split('\n').some((line) => line === JSON.stringify({ appended: rows }))) child.kill('SIGKILL');
  });
  return new Promise((resolve) => child.on('close', (_status, signal) => resolve(signal)));
}

for (const kind of setup.kinds) {
  describe(`shards after a crash: ${kind.name}`, () => {
    it("a writer killed mid-shard leaves only complete shards, listed and read whole, and its open shard's rows pending: a writer started later keeps those", async () => {
      const store = await kind.create();
      const location = store.url.startsWith('file://') ? decodeURIComponent(new URL(store.url).pathname) : store.url;
      assert.equal(await appendAndKill(location, 5, 2), 'SIGKILL');

      const catalog = openShardCatalog(store);
      const manifests = await catalog.list({ field: FIELD });
      assert.deepEqual(manifests.map((m) => [m.from, m.to, m.count]), [[hour(0).toISOString(), hour(1).toISOString(), 2], [hour(2).toISOString(), hour(3).toISOString(), 2]]);
      const rows: ShardRow[] = [];
      for (const manifest of manifests) for await (const row of catalog.read(manifest)) rows.push(row);
      assert.deepEqual(rows, [0, 1, 2, 3].map((i) => testRow(hour(i))));

      const listed = await runCommandProcess(['shards', 'list', '--store', location], { env: s3Env });
      assert.equal(listed.status, 0, listed.stderr);
      assert.deepEqual(listed.lines as ShardManifest[], manifests);
      const later = await runCommandProcess(['shards', 'list', '--store', location, '--from', '2019-09-20T02Z', '--to', '2019-09-20T09Z'], { env: s3Env });
      assert.deepEqual((later.lines as ShardManifest[]).map((m) => m.id), [manifests[1]!.id]);

      const next = createShardWriter({ store, normalization: SEED_NORMALIZATION, orphanAfterMs: 0 });
      await next.recoverPending();
      const recovered = (await catalog.list({ field: FIELD })).filter((m) => !manifests.some(({ id }) => id === m.id));
      assert.deepEqual(recovered.map((m) => [m.from, m.count]), [[hour(4).toISOString(), 1]]);
      for await (const row of catalog.read(recovered[0]!)) assert.deepEqual(row, testRow(hour(4)));
      await next.close();
    });

    it("a shard's data object that a kill left without its manifest is removed by the next compaction, once settled, and nothing listed changes", async () => {
      const store = await kind.create();
      const location = store.url.startsWith('file://') ? decodeURIComponent(new URL(store.url).pathname) : store.url;
      // Killed between the two writes of its first shard: its rows stay pending, its data object unlisted.
      assert.equal(await appendAndKill(location, 3, 2, `^put shards/.*/part-20190920T0000Z-20190920T0100Z-[0-9a-f]+\\.arrow$`), 'SIGKILL');
      const objects = async () => {
        const keys = [];
        for await (const { key } of store.list('shards/REFC_entire_atmosphere_anl/')) keys.push(key);
        return keys;
      };
      const [left] = (await objects()).filter((key) => key.endsWith('.arrow'));
      assert.ok(left, 'the killed writer left its data object');
      assert.deepEqual(await openShardCatalog(store).list({ field: FIELD }), []);
      const keep = async () => {
        const next = createShardWriter({ store, normalization: SEED_NORMALIZATION, orphanAfterMs: 0 });
        await next.recoverPending();
        await next.close();
      };
      await keep();
      const listed = await openShardCatalog(store).list({ field: FIELD });

      // Not yet settled: a writer may be about to write its manifest.
      await compactShards({ store, field: FIELD, log: silentLogger });
      assert.ok((await objects()).includes(left));
      await compactShards({ store, field: FIELD, log: silentLogger, now: () => Date.now() + 3 * 3_600_000 });
      assert.ok(!(await objects()).includes(left), `${left} is still there`);
      assert.deepEqual(await openShardCatalog(store).list({ field: FIELD }), listed);
      assert.deepEqual((await objects()).filter((key) => key.endsWith('.arrow')), listed.map((manifest) => manifest.dataKey));
    });
  });
}

describe('hrrr-embed shards: wrong command lines', () => {
  it('exits 2 naming the mistake', async () => {
    for (const [args, message] of [
      [['shards'], /shards takes one subcommand: list/],
      [['shards', 'remove'], /shards takes one subcommand: list/],
      [['shards', 'list', '--from', 'yesterday'], /--from: "yesterday" is not an hour such as 2019-09-20T05Z/],
      [['shards', 'list', '--from', '2019-09-21T00Z', '--to', '2019-09-20T00Z'], /--from 2019-09-21T00Z is after --to 2019-09-20T00Z/],
      [['shards', 'list', '--store', 'ftp://somewhere'], /--store: store location "ftp:\/\/somewhere"/],
    ] as const) {
      const result = await runCommandProcess([...args]);
      assert.equal(result.status, 2, args.join(' '));
      assert.match(result.stderr, message);
      assert.match(result.stderr, /usage: hrrr-embed shards list/);
    }
  });
});
