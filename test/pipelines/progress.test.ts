import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Progress } from '../../pipelines/progress.js';
import { FolderStore } from '../../store/folder.js';

const folder = await mkdtemp(join(tmpdir(), 'hrrr-embed-progress-'));
after(() => rm(folder, { recursive: true, force: true }));
const store = new FolderStore(folder);
const h = (n: number) => new Date(Date.UTC(2019, 8, 20, n));

describe('durable progress over hours', () => {
  it('moves its mark only over hours that are all done, keeping those done out of order', async () => {
    const progress = await Progress.load(store, 'a.json');
    assert.deepEqual(progress.begin(h(0)), h(0));
    await progress.markDone(h(1));
    await progress.markDone(h(3));
    assert.equal(progress.doneThrough?.getTime(), h(-1).getTime());
    await progress.markDone(h(0));
    await progress.markGap(h(2));
    assert.equal(progress.doneThrough?.getTime(), h(3).getTime());

    const reloaded = await Progress.load(store, 'a.json');
    assert.deepEqual(reloaded.begin(h(0)), h(4), 'a restart resumes after the last hour done');
    assert.deepEqual(reloaded.recentGaps, [h(2)]);
  });

  it('after a restart, hours done beyond the mark are still skipped', async () => {
    const progress = await Progress.load(store, 'b.json');
    progress.begin(h(0));
    await progress.markDone(h(2));
    const reloaded = await Progress.load(store, 'b.json');
    assert.deepEqual(reloaded.begin(h(0)), h(0));
    assert.equal(reloaded.isDone(h(1)), false);
    assert.equal(reloaded.isDone(h(2)), true);
  });

  it('starting later than the mark leaves the earlier hours alone', async () => {
    const progress = await Progress.load(store, 'a.json');
    assert.deepEqual(progress.begin(h(10)), h(10));
    assert.equal(progress.isDone(h(5)), true);
    assert.equal(progress.isDone(h(10)), false);
  });

  it('refuses an unreadable record with an error naming it', async () => {
    await store.put('bad.json', new TextEncoder().encode('{"version": 1, "through"'));
    await assert.rejects(Progress.load(store, 'bad.json'), /progress record file:\/\/.*bad\.json is unreadable/);
  });
});
