import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Progress } from '../../pipelines/progress.js';
import { FolderStore } from '../../store/folder.js';
import type { ObjectStore } from '../../store/object-store.js';

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

  it('saves in the order it marks: a slow save of an earlier mark never lands over a later one', async () => {
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    let puts = 0;
    const slowFirst: ObjectStore = Object.assign(Object.create(store) as ObjectStore, {
      put: async (...args: Parameters<ObjectStore['put']>) => {
        if (puts++ === 0) await firstHeld;
        return store.put(...args);
      },
    });
    const progress = await Progress.load(slowFirst, 'order.json');
    progress.begin(h(0));
    const first = progress.markDone(h(0));
    const second = progress.markDone(h(1));
    // Let the second save land first if it would (the defect), or give up waiting for it (it waits for the first).
    await Promise.race([second, new Promise((resolve) => setTimeout(resolve, 200))]);
    releaseFirst();
    await Promise.all([first, second]);
    assert.equal((await Progress.load(store, 'order.json')).doneThrough?.getTime(), h(1).getTime());
  });
});
