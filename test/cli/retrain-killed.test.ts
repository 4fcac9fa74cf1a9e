import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SEED_NORMALIZATION } from '../../model/config.js';
import { listVersions } from '../../model/versions.js';
import { createShardWriter } from '../../shards/writer.js';
import { HOUR_MS } from '../../stages/sources/hrrr-archive.js';
import { FolderStore } from '../../store/folder.js';
import { unfinishedRuns } from '../../training/checkpoints.js';
import { SMALL_CONFIG } from '../model/fixtures.js';
import { START } from '../support/analyses.js';
import { runCommandProcess } from '../support/cli-process.js';
import { FIELD, smallFieldOfHour } from '../training/memory-shards.js';

let work: string;
let modelConfig: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-retrain-killed-'));
  const writer = createShardWriter({ store: new FolderStore(join(work, 'shards')), normalization: SEED_NORMALIZATION });
  for (const n of [0, 1, 2, 3, 24, 25]) await writer.append({ validTime: new Date(START.getTime() + n * HOUR_MS), field: FIELD, source: `memory://hour/${n}`, height: 32, width: 64, values: smallFieldOfHour(n) });
  await writer.close();
  modelConfig = join(work, 'small.json');
  await writeFile(modelConfig, JSON.stringify({ model: SMALL_CONFIG }));
});
after(() => rm(work, { recursive: true, force: true }));

describe('retrain after a retrain killed with SIGKILL', () => {
  it('without --run-id, resumes the killed run from its checkpoint instead of starting another, leaving no run unfinished', async () => {
    const models = join(work, 'models');
    const options = ['--models', models, '--shards', join(work, 'shards'), '--data', join(work, 'bus'), '--fresh', '--model-config', modelConfig,
      '--from', '2019-09-20T00Z', '--to', '2019-09-21T23Z', '--steps', '12', '--steps-per-checkpoint', '2', '--device', 'cpu', '--quiet'];
    // As a CronJob's pod killed for memory: its run has the default id, of the minute it started; the pod tried again has another.
    const killed = await runCommandProcess(['retrain', '--run-id', 'retrain-20261125T0600Z', ...options], { onLine: (line, child) => line.includes('"checkpoint":2') && child.kill('SIGKILL') });
    assert.equal(killed.status, null, killed.stderr);
    const store = new FolderStore(models);
    assert.deepEqual(await unfinishedRuns(store), ['retrain-20261125T0600Z']);
    // Its lease, which the next trainer takes once it has seen it unrenewed for a minute (test/store/lease.test.ts), let go instead: the test need not wait that minute.
    for await (const { key } of store.list('trainer-lease/')) {
      const lease = JSON.parse(new TextDecoder().decode(await store.get(key))) as object;
      await store.put(key, new TextEncoder().encode(JSON.stringify({ ...lease, released: true })));
    }

    const again = await runCommandProcess(['retrain', ...options]);
    assert.equal(again.status, 0, again.stderr);
    const results = (again.lines as Array<{ runId?: string; resumedAt?: number; modelId?: string }>).filter((line) => line.modelId !== undefined);
    assert.deepEqual(results.map(({ runId }) => runId), ['retrain-20261125T0600Z']);
    assert.ok(results[0]!.resumedAt! >= 2, `resumed at step ${results[0]!.resumedAt}, not from its checkpoint`);
    assert.match(again.stderr, /resuming run retrain-20261125T0600Z, left unfinished/);
    assert.deepEqual(await unfinishedRuns(store), [], 'a run left unfinished for good: its checkpoint stays, and compaction leaves its days alone');
    assert.deepEqual(await listVersions(store), [results[0]!.modelId]);
    const left: string[] = [];
    for await (const { key } of store.list('training/retrain-20261125T0600Z/checkpoints/')) left.push(key);
    assert.deepEqual(left, []);
  });
});
