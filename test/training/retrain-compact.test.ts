import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SEED_NORMALIZATION } from '../../model/config.js';
import { openShardCatalog } from '../../shards/catalog.js';
import { createShardWriter } from '../../shards/writer.js';
import { HOUR_MS } from '../../stages/sources/hrrr-archive.js';
import { FolderStore } from '../../store/folder.js';
import { SMALL_CONFIG } from '../model/fixtures.js';
import { START } from '../support/analyses.js';
import { runCommandProcess } from '../support/cli-process.js';
import { FIELD, smallFieldOfHour } from './memory-shards.js';

const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-retrain-compact-'));
after(() => rmSync(work, { recursive: true, force: true }));

describe('hrrr-embed retrain --compact-shards', () => {
  it("merges each ended day's shards into one before the run, which then trains on the merged shards", async () => {
    const shardStore = new FolderStore(join(work, 'shards'));
    // Two days of four hours, each day in two shards, as a live consumer leaves them.
    for (const hours of [[0, 1], [2, 3], [24, 25], [26, 27]]) {
      const writer = createShardWriter({ store: shardStore, normalization: SEED_NORMALIZATION });
      for (const n of hours) await writer.append({ validTime: new Date(START.getTime() + n * HOUR_MS), field: FIELD, source: `memory://hour/${n}`, height: 32, width: 64, values: smallFieldOfHour(n) });
      await writer.close();
    }
    const catalog = openShardCatalog(shardStore);
    assert.equal((await catalog.list({ field: FIELD })).length, 4);
    const modelConfig = join(work, 'small.json');
    writeFileSync(modelConfig, JSON.stringify({ model: SMALL_CONFIG }));

    const result = await runCommandProcess([
      'retrain', '--models', join(work, 'models'), '--shards', join(work, 'shards'), '--data', join(work, 'bus'),
      '--fresh', '--model-config', modelConfig, '--from', '2019-09-20T00Z', '--to', '2019-09-21T23Z',
      '--steps', '2', '--steps-per-checkpoint', '2', '--device', 'cpu', '--quiet', '--compact-shards',
    ]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /day compacted/);
    const merged = await catalog.list({ field: FIELD });
    assert.deepEqual(merged.map((m) => [m.from, m.to, m.count]), [
      ['2019-09-20T00:00:00.000Z', '2019-09-20T03:00:00.000Z', 4],
      ['2019-09-21T00:00:00.000Z', '2019-09-21T03:00:00.000Z', 4],
    ]);
    const outcome = result.lines.at(-1) as { promoted: boolean; steps: number };
    assert.deepEqual([outcome.promoted, outcome.steps], [true, 2]);
  });
});
