import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Progress } from '../../pipelines/progress.js';
import { FolderStore } from '../../store/folder.js';

const folder = await mkdtemp(join(tmpdir(), 'hrrr-embed-progress-limits-'));
after(() => rm(folder, { recursive: true, force: true }));
const store = new FolderStore(folder);
const h = (n: number) => new Date(Date.UTC(2019, 8, 20, n));

describe('durable progress, at its edges', () => {
  it('counts the hour its mark is on as done, before and after a restart', async () => {
    const progress = await Progress.load(store, 'mark.json');
    progress.begin(h(0));
    await progress.markDone(h(0));
    await progress.markDone(h(1));
    assert.equal(progress.doneThrough?.getTime(), h(1).getTime());
    assert.equal(progress.isDone(h(1)), true);
    assert.equal((await Progress.load(store, 'mark.json')).isDone(h(1)), true);
  });

  it('keeps the last 1000 gaps, the oldest forgotten first', async () => {
    const progress = await Progress.load(store, 'gaps.json');
    progress.begin(h(0));
    for (let n = 0; n < 1001; n++) void progress.markGap(h(n));
    await progress.markDone(h(1001));
    const gaps = (await Progress.load(store, 'gaps.json')).recentGaps;
    assert.equal(gaps.length, 1000);
    assert.deepEqual([gaps[0], gaps.at(-1)], [h(1), h(1000)]);
  });

});
