import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Progress } from '../../pipelines/progress.js';
import { FolderStore } from '../../store/folder.js';
import type { ObjectInfo, ObjectStore } from '../../store/object-store.js';
import { ObjectNotFoundError } from '../../store/errors.js';

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

  it('starting later than the mark leaves the hours between to do, not done', async () => {
    const progress = await Progress.load(store, 'a.json');
    assert.deepEqual(progress.begin(h(10)), h(10));
    assert.equal(progress.isDone(h(3)), true);
    assert.equal(progress.isDone(h(5)), false, 'an hour no run did is not done');
    assert.equal(progress.isDone(h(10)), false);
  });

  it('a range done after a later one (two backfills of one year\'s halves into one --out) is done, not skipped', async () => {
    const later = await Progress.load(store, 'halves.json');
    assert.deepEqual(later.begin(h(10)), h(10));
    for (let n = 10; n <= 12; n++) await later.markDone(h(n));

    const earlier = await Progress.load(store, 'halves.json');
    assert.deepEqual(earlier.begin(h(0)), h(0), 'the earlier range starts at its first hour');
    assert.equal(earlier.isDone(h(5)), false);
    assert.equal(earlier.isDone(h(11)), true, 'the later range stays done');
    for (let n = 0; n <= 9; n++) await earlier.markDone(h(n));
    assert.deepEqual(earlier.doneThrough, h(12), 'both ranges and the hours between done: one run');

    const reloaded = await Progress.load(store, 'halves.json');
    assert.deepEqual(reloaded.begin(h(0)), h(13));
    assert.equal(reloaded.describe(), 'done through 2019-09-20T12Z, 0 more after it');
  });

  it('a range started before the record\'s first hour is to do; the record read back says so', async () => {
    const progress = await Progress.load(store, 'before.json');
    progress.begin(h(5));
    await progress.markDone(h(5));
    const reloaded = await Progress.load(store, 'before.json');
    assert.deepEqual(reloaded.begin(h(2)), h(2));
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => reloaded.isDone(h(n))), [false, false, false, false, true, false]);
    await reloaded.markDone(h(3));
    assert.deepEqual([2, 3, 4, 5].map((n) => reloaded.isDone(h(n))), [false, true, false, true]);
  });

  it('refuses an unreadable record with an error naming it', async () => {
    await store.put('bad.json', new TextEncoder().encode('{"version": 1, "through"'));
    await assert.rejects(Progress.load(store, 'bad.json'), /progress record file:\/\/.*bad\.json is unreadable/);
  });

  it('refuses a record edited by hand that lacks a key or holds the wrong kind of value, naming the record and the key', async () => {
    const cases: Array<[string, RegExp]> = [
      ['{"version": 1, "through": "2019-09-20T05Z"}', /bad-shape\.json: "done" is missing or not a list of hours/],
      ['{"version": 1, "through": "2019-09-20T05Z", "done": []}', /bad-shape\.json: "gaps" is missing or not a list of hours/],
      ['{"version": 1, "through": "2019-09-20T05Z", "done": [5], "gaps": []}', /bad-shape\.json: "done" is missing or not a list of hours/],
      ['{"version": 1, "done": [], "gaps": []}', /bad-shape\.json: "through" is missing \(null when no hour is done\)/],
      ['{"through": "2019-09-20T05Z", "done": [], "gaps": []}', /bad-shape\.json has no "version", this build reads versions 1 and 2/],
      ['null', /bad-shape\.json is not a JSON object/],
      ['[1]', /bad-shape\.json is not a JSON object/],
    ];
    for (const [text, error] of cases) {
      await store.put('bad-shape.json', new TextEncoder().encode(text));
      await assert.rejects(Progress.load(store, 'bad-shape.json'), error, text);
    }
  });

  it('keeps its record small when one hour stays undone while a year of later hours is done', async () => {
    const store = new MemoryStore();
    const progress = await Progress.load(store, 'year.json');
    progress.begin(h(0));
    // Hour 0 keeps failing (left for the next run); the 8,760 hours after it are done, with a few holes.
    const holes = new Set([100, 2000, 5000]);
    for (let hour = 1; hour <= 8760; hour++) if (!holes.has(hour)) void progress.markDone(h(hour));
    await progress.markGap(h(8761));
    const largest = Math.max(...store.putSizes);
    assert.ok(largest < 2000, `the record grew to ${largest} bytes`);

    const reloaded = await Progress.load(store, 'year.json');
    assert.deepEqual(reloaded.begin(h(0)), h(0), 'the failed hour is still to do');
    for (const hour of [0, 100, 2000, 5000]) assert.equal(reloaded.isDone(h(hour)), false, `hour ${hour}`);
    for (const hour of [1, 99, 101, 1999, 2001, 8760, 8761]) assert.equal(reloaded.isDone(h(hour)), true, `hour ${hour}`);
    assert.equal(reloaded.describe(), 'done through 2019-09-19T23Z, 8758 more after it');
    await reloaded.markDone(h(0));
    assert.equal(reloaded.doneThrough?.getTime(), h(99).getTime());
    await reloaded.markDone(h(5000));
    assert.equal(reloaded.describe(), 'done through 2019-09-24T03Z, 8660 more after it');
    await reloaded.markDone(h(2000));
    await reloaded.markDone(h(100));
    assert.equal(reloaded.doneThrough?.getTime(), h(8761).getTime(), 'the holes filled, every hour is done');
  });

  it('reads a record of the previous version, which lists each hour', async () => {
    const record = { version: 1, through: h(0).toISOString(), done: [h(2).toISOString(), h(3).toISOString()], gaps: [], updatedAt: h(4).toISOString() };
    await store.put('v1.json', new TextEncoder().encode(JSON.stringify(record)));
    const progress = await Progress.load(store, 'v1.json');
    assert.deepEqual(progress.begin(h(0)), h(1));
    assert.equal(progress.isDone(h(3)), true);
    await progress.markDone(h(1));
    assert.equal(progress.doneThrough?.getTime(), h(3).getTime());
  });

  it('writes a record without a run of hours as version 1, so that a build rolled back to before version 2 still starts', async () => {
    // Builds before version 2 refuse any other version and read each done entry with Date.parse.
    const readRecord = async (key: string) => JSON.parse(new TextDecoder().decode(await store.get(key))) as { version: number; done: string[] };
    const progress = await Progress.load(store, 'rollback.json');
    progress.begin(h(0));
    await progress.markDone(h(0));
    await progress.markDone(h(2));
    const live = await readRecord('rollback.json');
    assert.equal(live.version, 1);
    assert.deepEqual(live.done.map(Date.parse), [h(2).getTime()]);

    await progress.markDone(h(3));
    assert.equal((await readRecord('rollback.json')).version, 2, 'a run of hours needs version 2');
    await progress.markDone(h(1));
    assert.deepEqual(await readRecord('rollback.json'), { ...(await readRecord('rollback.json')), version: 1, done: [] }, 'the run joined the mark');
  });

  it('reads a run of done hours that overlaps or follows the mark as moving the mark', async () => {
    const record = { version: 2, through: h(3).toISOString(), done: [`${h(1).toISOString()}/${h(5).toISOString()}`, h(8).toISOString()], gaps: [], updatedAt: h(9).toISOString() };
    await store.put('overlap.json', new TextEncoder().encode(JSON.stringify(record)));
    const progress = await Progress.load(store, 'overlap.json');
    assert.deepEqual(progress.begin(h(0)), h(6));
    assert.equal(progress.describe(), 'done through 2019-09-20T05Z, 1 more after it');
  });

  it('refuses a record whose done hours are not times, naming the entry', async () => {
    const record = { version: 2, through: h(0).toISOString(), done: ['2019-09-20T02:00:00.000Z/soon'], gaps: [], updatedAt: h(4).toISOString() };
    await store.put('bad-done.json', new TextEncoder().encode(JSON.stringify(record)));
    await assert.rejects(Progress.load(store, 'bad-done.json'), /bad-done\.json.*"2019-09-20T02:00:00.000Z\/soon" is not an hour or a run of hours/);
  });

  it('reads a record edited by hand as the command line reads hours, in UTC whatever the machine\'s zone, and refuses a mark that is no hour', async () => {
    const zone = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      const record = { version: 2, through: '2019-09-20T03Z', done: ['2019-09-20T05:00:00', '2019-09-20T07:00/2019-09-20T08:00'], gaps: ['2019-09-20 04:00'], updatedAt: h(9).toISOString() };
      await store.put('by-hand.json', new TextEncoder().encode(JSON.stringify(record)));
      const progress = await Progress.load(store, 'by-hand.json');
      assert.deepEqual(progress.doneThrough, h(3));
      assert.deepEqual([4, 5, 6, 7, 8, 9].map((n) => progress.isDone(h(n))), [false, true, false, true, true, false]);
      assert.deepEqual(progress.recentGaps, [h(4)]);
      for (const through of ['yesterday', '2019-09-20T03:30:00Z']) {
        await store.put('bad-mark.json', new TextEncoder().encode(JSON.stringify({ ...record, through })));
        await assert.rejects(Progress.load(store, 'bad-mark.json'), new RegExp(`bad-mark\\.json: "through": ${JSON.stringify(through)} is not an hour`));
      }
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });
});

/** Objects in memory, with the size of each one put: 8,760 writes in a moment. */
class MemoryStore implements ObjectStore {
  readonly url = 'memory://progress';
  readonly putSizes: number[] = [];
  private readonly objects = new Map<string, Uint8Array>();

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    for (const [key, body] of this.objects) if (key.startsWith(prefix)) yield { key, size: body.length, lastModified: new Date(0) };
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const body = this.objects.get(key);
    return body && { key, size: body.length, lastModified: new Date(0) };
  }

  async get(key: string): Promise<Uint8Array> {
    const body = this.objects.get(key);
    if (!body) throw new ObjectNotFoundError(`${this.url}/${key}`);
    return body;
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    this.putSizes.push(body.length);
    this.objects.set(key, body);
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }
}
