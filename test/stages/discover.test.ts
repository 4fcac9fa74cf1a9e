import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createDiscoverySource, type DiscoveryConfig } from '../../stages/sources/discover.js';
import { formatHour } from '../../stages/sources/hrrr-archive.js';
import { silentLogger } from '../../stages/stage.js';
import type { Analysis } from '../../stages/types.js';
import { analysisOfHour, hour, seedAnalyses } from '../support/analyses.js';
import { storeKinds } from '../support/stores.js';

const setup = await storeKinds();
after(() => setup.stop());

/** Runs discovery to its end (or until `take` analyses came), returning the hours found and the gaps. */
async function discover(config: Omit<DiscoveryConfig, 'onGap'>, take = Infinity): Promise<{ found: string[]; gaps: string[]; analyses: Analysis[] }> {
  const gaps: string[] = [];
  const analyses: Analysis[] = [];
  const controller = new AbortController();
  const source = createDiscoverySource({ pollIntervalMs: 5, ...config, onGap: (time) => void gaps.push(formatHour(time)) });
  for await (const analysis of source.run({ log: silentLogger, signal: controller.signal })) {
    analyses.push(analysis);
    if (analyses.length >= take) break;
  }
  return { found: analyses.map((analysis) => formatHour(analysis.time)), gaps, analyses };
}

/** A clock standing at `at` that throws after `looks` reads: a discovery that would poll for ever ends the test instead of hanging it. */
function stopAfterLooks(looks: number, at: Date): () => number {
  let read = 0;
  return () => {
    if (++read > looks) throw new Error(`discovery still polling after ${looks} looks at the clock: stuck`);
    return at.getTime();
  };
}

for (const kind of setup.kinds) {
  describe(`discovery of new analyses: ${kind.name}`, () => {
    it('finds every analysis of a range in time order, with its .idx, and reports the missing hour as a gap', async () => {
      const store = await kind.create();
      await seedAnalyses(store, [0, 1, 3]);
      const { found, gaps, analyses } = await discover({ store, from: hour(0), to: hour(3) });
      assert.deepEqual(found, ['2019-09-20T00Z', '2019-09-20T01Z', '2019-09-20T03Z']);
      assert.deepEqual(gaps, ['2019-09-20T02Z']);
      assert.equal(analyses[0]!.size, analysisOfHour(0).grib2.length);
      assert.equal(analyses[0]!.idx?.entries[0]?.variable, 'REFC');
    });

    it('gets past a run of missing hours as long as its lookahead, in a range that has ended: the hours after it are found, those missing are gaps', async () => {
      const store = await kind.create();
      await seedAnalyses(store, [2, 3]);
      const { found, gaps } = await discover({ store, from: hour(0), to: hour(3), lookaheadHours: 2, clock: stopAfterLooks(200, hour(10)) });
      assert.deepEqual(found, ['2019-09-20T02Z', '2019-09-20T03Z']);
      assert.deepEqual(gaps, ['2019-09-20T00Z', '2019-09-20T01Z']);
    });

    it('in a range that has ended, a run of missing hours as long as its lookahead is gaps even when the range ends missing too', async () => {
      const store = await kind.create();
      await seedAnalyses(store, [2]);
      // Hours 3 and 4, the range's last two, are missing: only the range having ended says hours 0 and 1 will not come.
      const { found, gaps } = await discover({ store, from: hour(0), to: hour(4), lookaheadHours: 2, clock: stopAfterLooks(200, hour(10)) });
      assert.deepEqual(found, ['2019-09-20T02Z']);
      assert.deepEqual(gaps, ['2019-09-20T00Z', '2019-09-20T01Z', '2019-09-20T03Z', '2019-09-20T04Z']);
    });

    it('following the store with no end hour, gets past an outage as long as its lookahead once analyses come again', async () => {
      const store = await kind.create();
      await seedAnalyses(store, [9]);
      const { found, gaps } = await discover({ store, from: hour(0), lookaheadHours: 2, clock: stopAfterLooks(200, hour(10)) }, 1);
      assert.deepEqual(found, ['2019-09-20T09Z']);
      assert.deepEqual(gaps, ['2019-09-20T00Z', '2019-09-20T01Z', '2019-09-20T02Z', '2019-09-20T03Z', '2019-09-20T04Z', '2019-09-20T05Z', '2019-09-20T06Z', '2019-09-20T07Z'], 'hour 8 is not due yet at hour 10');
    });

    it('follows the store: analyses written while it runs are found, in order', async () => {
      const store = await kind.create();
      await seedAnalyses(store, [0]);
      const writer = (async () => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        await seedAnalyses(store, [1, 2]);
      })();
      // No end hour: the clock says hour 2 has come, so discovery waits for it.
      const { found } = await discover({ store, from: hour(0), clock: () => hour(2).getTime() + 60_000 }, 3);
      await writer;
      assert.deepEqual(found, ['2019-09-20T00Z', '2019-09-20T01Z', '2019-09-20T02Z']);
    });

    it('waits for the GRIB2 object when only the .idx is there (NOAA writes the .idx first)', async () => {
      const store = await kind.create();
      const { key, idx } = analysisOfHour(0);
      await store.put(`${key}.idx`, new TextEncoder().encode(idx));
      const once = await discover({ store, from: hour(0), to: hour(0), once: true, clock: () => hour(0).getTime() + 3_000_000 });
      assert.deepEqual(once, { found: [], gaps: [], analyses: [] }, 'not complete, not yet a gap');
      await store.put(key, analysisOfHour(0).grib2);
      assert.deepEqual((await discover({ store, from: hour(0), to: hour(0) })).found, ['2019-09-20T00Z']);
    });

    it('does not take a GRIB2 object shorter than its .idx says while it may still be written, and passes it on to be rejected once due', async () => {
      const store = await kind.create();
      const { key, idx, grib2 } = analysisOfHour(0);
      await store.put(`${key}.idx`, new TextEncoder().encode(idx));
      const lastOffset = Number(idx.trim().split('\n').at(-1)!.split(':')[1]);
      await store.put(key, grib2.subarray(0, lastOffset));
      const { found } = await discover({ store, from: hour(0), to: hour(0), once: true, clock: () => hour(0).getTime() });
      assert.deepEqual(found, []);
      const late = await discover({ store, from: hour(0), to: hour(0), once: true, clock: () => hour(10).getTime() });
      assert.deepEqual(late.found, ['2019-09-20T00Z'], 'broken, not missing: the fetch stage rejects it with a clear error');
      assert.deepEqual(late.gaps, []);
    });

    it('does not take a GRIB2 object whose last message is cut short (a file still being copied) while it may still be written', async () => {
      const store = await kind.create();
      const { key, idx, grib2 } = analysisOfHour(0);
      await store.put(`${key}.idx`, new TextEncoder().encode(idx));
      const lastOffset = Number(idx.trim().split('\n').at(-1)!.split(':')[1]);
      await store.put(key, grib2.subarray(0, lastOffset + Math.floor((grib2.length - lastOffset) / 2)));
      assert.deepEqual((await discover({ store, from: hour(0), to: hour(0), once: true, clock: () => hour(0).getTime() })).found, []);
      await store.put(key, grib2);
      assert.deepEqual((await discover({ store, from: hour(0), to: hour(0), once: true, clock: () => hour(0).getTime() })).found, ['2019-09-20T00Z']);
    });

    it('does not report a GRIB2 object that waits for its .idx as a gap when its hour is long due and the range has ended: it takes it once the wait is over', async () => {
      // A mirror just copied without its .idx files: each hour was a gap, recorded as done, and never read.
      const store = await kind.create();
      await store.put(analysisOfHour(0).key, analysisOfHour(0).grib2);
      const now = Date.now();
      assert.deepEqual(await discover({ store, from: hour(0), to: hour(0), once: true, clock: () => now, idxWaitMs: 600_000 }), { found: [], gaps: [], analyses: [] });
      let clock = now;
      const later = await discover({ store, from: hour(0), to: hour(0), clock: () => (clock += 100_000), idxWaitMs: 600_000 });
      assert.deepEqual({ found: later.found, gaps: later.gaps }, { found: ['2019-09-20T00Z'], gaps: [] });
      assert.equal(later.analyses[0]!.idx, undefined, 'read whole');
    });

    it('warns of an unreadable .idx once, when it takes the object whole, not at each look while the object waits for it', async () => {
      // A follower looking every few seconds logged 'unreadable .idx' 11 times in the 2 minutes of the wait.
      const store = await kind.create();
      const { key, grib2 } = analysisOfHour(0);
      await store.put(key, grib2);
      await store.put(`${key}.idx`, new TextEncoder().encode('this is no .idx\n'));
      const warnings: string[] = [];
      const log = { ...silentLogger, warn: (_: object, message?: string) => void warnings.push(message ?? '') };
      let clock = Date.now();
      const found: Analysis[] = [];
      const source = createDiscoverySource({ store, from: hour(0), to: hour(0), pollIntervalMs: 1, idxWaitMs: 120_000, clock: () => (clock += 10_000) });
      for await (const analysis of source.run({ log, signal: AbortSignal.timeout(30_000) })) found.push(analysis);
      assert.deepEqual(found.map((analysis) => [formatHour(analysis.time), analysis.idx]), [['2019-09-20T00Z', undefined]]);
      assert.deepEqual(warnings, ['unreadable .idx: the whole object will be read']);
    });

    it('waits on a GRIB2 object with no .idx dated ahead of its clock while it is still being written, taking it whole once it has stayed the same for the wait', async () => {
      // A folder on a server whose clock is ahead: a file being copied is dated ahead at every write. Taken at once, its first half was fetched.
      // Dated a day ahead, it is still taken once unchanged: waited on for ever, a polling consumer stuck at its hour stopped finding hours 48 hours later.
      const store = await kind.create();
      const { key, grib2 } = analysisOfHour(0);
      await store.put(key, grib2.subarray(0, grib2.length >> 1));
      let lists = 0;
      const growing = new Proxy(store, {
        get: (target, name) =>
          name === 'list'
            ? (prefix: string, options?: object) =>
                (async function* () {
                  if (++lists === 3) await target.put(key, grib2);
                  yield* target.list(prefix, options);
                })()
            : Reflect.get(target, name),
      });
      const stop = new AbortController();
      let looks = 0;
      const dayBehind = Date.now() - 24 * 3_600_000;
      const clock = () => {
        if (++looks > 200) stop.abort();
        return dayBehind + looks * 10_000;
      };
      const { found, gaps, analyses } = await discover({ store: growing, from: hour(0), to: hour(0), clock, stop: stop.signal });
      assert.deepEqual({ found, gaps }, { found: ['2019-09-20T00Z'], gaps: [] });
      assert.equal(analyses[0]!.size, grib2.length, 'the whole object, not the part written at the first look');
      assert.equal(analyses[0]!.idx, undefined, 'read whole');
    });

    it('skips hours already done and does not hold later hours back for a missing one', async () => {
      const store = await kind.create();
      await seedAnalyses(store, [0, 1, 3]);
      // Hour 2 is missing but recent (not yet a gap): hour 3 still comes.
      const { found, gaps } = await discover({ store, from: hour(0), to: hour(3), once: true, isDone: (time) => time.getTime() === hour(0).getTime(), clock: () => hour(3).getTime() + 1 });
      assert.deepEqual(found, ['2019-09-20T01Z', '2019-09-20T03Z']);
      assert.deepEqual(gaps, []);
    });

    it('looks again at a missing hour before calling it a gap: it may have come while the later hours were looked at', async () => {
      const store = await kind.create();
      await seedAnalyses(store, [0, 1, 2]);
      // Hour 1 is not there at its first look (written just after), hour 2 is at its own, later look.
      const firstLooks = new Set<string>();
      const late = new Proxy(store, {
        get: (target, name) => (name === 'list' ? (prefix: string, options?: object) => (firstLooks.has(prefix) || !prefix.includes('t01z') ? target.list(prefix, options) : (firstLooks.add(prefix), (async function* () {})())) : Reflect.get(target, name)),
      });
      const { found, gaps } = await discover({ store: late, from: hour(0), to: hour(2), lookConcurrency: 1 });
      assert.deepEqual(gaps, []);
      assert.deepEqual([...found].sort(), ['2019-09-20T00Z', '2019-09-20T01Z', '2019-09-20T02Z']);
    });

    it('following, a missing hour becomes a gap once overdue even when no newer hour arrives meanwhile', async () => {
      const store = await kind.create();
      await seedAnalyses(store, [0, 2]);
      let now = hour(2).getTime() + 600_000;
      const controller = new AbortController();
      const gaps: string[] = [];
      const found: string[] = [];
      const source = createDiscoverySource({ store, from: hour(0), clock: () => now, pollIntervalMs: 5, onGap: (time) => (gaps.push(formatHour(time)), controller.abort()) });
      await assert.rejects(async () => {
        for await (const analysis of source.run({ log: silentLogger, signal: controller.signal })) {
          found.push(formatHour(analysis.time));
          if (found.length === 2) now = hour(5).getTime();
        }
      }, /abort/i);
      assert.deepEqual(found, ['2019-09-20T00Z', '2019-09-20T02Z']);
      assert.deepEqual(gaps, ['2019-09-20T01Z']);
    });
  });
}
