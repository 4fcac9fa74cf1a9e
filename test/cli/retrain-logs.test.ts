import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SEED_NORMALIZATION } from '../../model/config.js';
import { createShardWriter } from '../../shards/writer.js';
import { HOUR_MS } from '../../stages/sources/hrrr-archive.js';
import { FolderStore } from '../../store/folder.js';
import { SMALL_CONFIG } from '../model/fixtures.js';
import { START } from '../support/analyses.js';
import { runCommandProcess } from '../support/cli-process.js';
import { FIELD, smallFieldOfHour } from '../training/memory-shards.js';

const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-retrain-logs-'));
after(() => rmSync(work, { recursive: true, force: true }));

describe('hrrr-embed retrain, its logs where stderr is not a terminal (a container, a CronJob)', () => {
  it('writes only JSON lines on stderr, without --quiet: no progress bar among them', async () => {
    const writer = createShardWriter({ store: new FolderStore(join(work, 'shards')), normalization: SEED_NORMALIZATION });
    for (const n of [0, 1, 2, 3, 24, 25]) await writer.append({ validTime: new Date(START.getTime() + n * HOUR_MS), field: FIELD, source: `memory://hour/${n}`, height: 32, width: 64, values: smallFieldOfHour(n) });
    await writer.close();
    const modelConfig = join(work, 'small.json');
    writeFileSync(modelConfig, JSON.stringify({ model: SMALL_CONFIG }));

    const result = await runCommandProcess([
      'retrain', '--models', join(work, 'models'), '--shards', join(work, 'shards'), '--data', join(work, 'bus'),
      '--fresh', '--model-config', modelConfig, '--from', '2019-09-20T00Z', '--to', '2019-09-21T23Z',
      '--steps', '2', '--steps-per-checkpoint', '2', '--device', 'cpu',
    ]);
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
    assert.ok(lines.some((line) => line.includes('"training"')), 'progress is logged');
    for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not a JSON line: ${line}`);
  });
});
