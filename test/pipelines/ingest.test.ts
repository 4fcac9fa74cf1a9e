import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { runIngest, type IngestConfig, type IngestEvent, type IngestedAnalysis } from '../../pipelines/ingest.js';
import { Progress } from '../../pipelines/progress.js';
import { formatHour } from '../../stages/sources/hrrr-archive.js';
import { silentLogger } from '../../stages/stage.js';
import { StoreError } from '../../store/errors.js';
import type { ObjectStore } from '../../store/object-store.js';
import { RetryingStore } from '../../store/retrying.js';
import { analysisOfHour, hour, seedAnalyses } from '../support/analyses.js';
import { storeKinds } from '../support/stores.js';

const setup = await storeKinds();
after(() => setup.stop());

const PROGRESS = 'progress/test.json';

/** Runs the ingest pipeline once over the store, returning what was delivered and every event. */
async function ingest(store: ObjectStore, config: Partial<IngestConfig> & { deliver?: (result: IngestedAnalysis) => Promise<void>; signal?: AbortSignal } = {}) {
  const delivered: string[] = [];
  const events: IngestEvent[] = [];
  const { deliver, signal = new AbortController().signal, ...rest } = config;
  const summary = await runIngest(
    { source: store, state: store, progressKey: PROGRESS, match: /:REFC:/, from: hour(0), to: hour(5), discovery: { pollIntervalMs: 5 }, ...rest },
    {
      deliver: async (result) => {
        await deliver?.(result);
        delivered.push(formatHour(result.analysis.time));
      },
      onEvent: (event) => events.push(event),
    },
    { log: silentLogger, signal },
  );
  return { delivered, events, summary };
}

for (const kind of setup.kinds) {
  describe(`ingest pipeline: ${kind.name}`, () => {
    it('decodes the REFC field of each analysis and a restart resumes after the last one done', async () => {
      const store = await kind.create();
      await seedAnalyses(store, [0, 1, 2]);
      const first = await ingest(store, { concurrency: 2, once: true, to: hour(2), deliver: async ({ fields }) => assert.deepEqual(fields.map((f) => f.field.parameter.shortName), ['REFC']) });
      assert.deepEqual(first.delivered.sort(), ['2019-09-20T00Z', '2019-09-20T01Z', '2019-09-20T02Z']);
      await seedAnalyses(store, [3, 4]);
      const second = await ingest(store, { to: hour(4) });
      assert.deepEqual(second.delivered.sort(), ['2019-09-20T03Z', '2019-09-20T04Z'], 'no repeat and no gap');
      assert.equal((await Progress.load(store, PROGRESS)).doneThrough?.toISOString(), hour(4).toISOString());
    });

    it('an analysis whose delivery was cut off by a shutdown is done after the restart, and nothing is repeated or lost', async () => {
      const store = await kind.create();
      await seedAnalyses(store, [0, 1, 2, 3]);
      const shutdown = new AbortController();
      const cutOff = ingest(store, {
        concurrency: 1,
        to: hour(3),
        signal: shutdown.signal,
        deliver: async ({ analysis }) => {
          if (analysis.time.getTime() === hour(2).getTime()) shutdown.abort(new Error('SIGTERM'));
          shutdown.signal.throwIfAborted();
        },
      });
      await assert.rejects(cutOff, /SIGTERM/);
      assert.equal((await Progress.load(store, PROGRESS)).doneThrough?.toISOString(), hour(1).toISOString());
      const resumed = await ingest(store, { to: hour(3) });
      assert.deepEqual(resumed.delivered.sort(), ['2019-09-20T02Z', '2019-09-20T03Z']);
    });

    it('a corrupt analysis becomes a dead letter naming the stage and the cause, and the next one is processed', async () => {
      const store = await kind.create();
      await seedAnalyses(store, [0, 1, 2]);
      const { key, grib2 } = analysisOfHour(1);
      const corrupt = grib2.slice();
      corrupt.set([0x58, 0x58, 0x58, 0x58], 0);
      await store.put(key, corrupt);
      const { delivered, events, summary } = await ingest(store, { to: hour(2) });
      assert.deepEqual(delivered.sort(), ['2019-09-20T00Z', '2019-09-20T02Z']);
      const dead = events.find((event) => event.kind === 'dead-letter');
      assert.ok(dead && dead.kind === 'dead-letter');
      assert.equal(dead.error.stage, 'fetch');
      assert.match(dead.error.message, /hrrr\.t01z\.wrfsfcf00\.grib2 bytes 0-\d+: GRIB2 section 0 at byte 0: expected "GRIB"/);
      assert.equal(summary.deadLetters, 1);
      assert.equal((await Progress.load(store, PROGRESS)).doneThrough?.toISOString(), hour(2).toISOString(), 'a dead letter is done: it is not retried forever');
    });

    it('records a missing hour as a gap in the progress record', async () => {
      const store = await kind.create();
      await seedAnalyses(store, [0, 2]);
      const { events, summary } = await ingest(store, { to: hour(2) });
      assert.deepEqual(events.filter((event) => event.kind === 'gap').map((event) => event.kind === 'gap' && formatHour(event.time)), ['2019-09-20T01Z']);
      assert.equal(summary.gaps, 1);
      assert.deepEqual((await Progress.load(store, PROGRESS)).recentGaps, [hour(1)]);
    });
  });
}

describe('ingest of a backlog on S3 (moto server)', () => {
  it('many requests in flight at once on the one shutdown signal give no MaxListenersExceededWarning (a "possible memory leak" in the log of a consumer catching up)', async () => {
    const store = await setup.kinds[1]!.create();
    const hours = Array.from({ length: 24 }, (_, n) => n);
    await seedAnalyses(store, hours);
    const warnings: string[] = [];
    const onWarning = (warning: Error) => void (warning.name === 'MaxListenersExceededWarning' && warnings.push(warning.message));
    process.on('warning', onWarning);
    try {
      const { delivered } = await ingest(store, { concurrency: 16, once: true, to: hour(23) });
      assert.equal(delivered.length, 24);
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings, []);
  });
});

describe('ingest when the store keeps failing', () => {
  it('leaves an analysis whose reads failed after every retry for the next run, and reports it', async () => {
    const store = await setup.kinds[0]!.create();
    await seedAnalyses(store, [0, 1]);
    let failing = true;
    const flaky: ObjectStore = Object.create(store, {
      get: {
        value: (key: string, options: object) => (failing && key.includes('t01z') && !key.endsWith('.idx') ? Promise.reject(new StoreError('server', key, 'HTTP 500')) : store.get(key, options)),
      },
    });
    const retrying = new RetryingStore(flaky, { policy: { attempts: 2 }, sleep: async () => {} });
    const first = await ingest(retrying, { to: hour(1) });
    assert.deepEqual(first.delivered, ['2019-09-20T00Z']);
    assert.equal(first.summary.failed, 1);
    failing = false;
    const second = await ingest(retrying, { to: hour(1) });
    assert.deepEqual(second.delivered, ['2019-09-20T01Z']);
  });

  it('leaves an analysis the store refuses to read (403: credentials, a bucket policy) for the next run: access denied is never a dead letter', async () => {
    const store = await setup.kinds[0]!.create();
    await seedAnalyses(store, [0, 1]);
    let denying = true;
    const refusing: ObjectStore = Object.create(store, {
      get: {
        value: (key: string, options: object) => (denying && key.includes('t01z') && !key.endsWith('.idx') ? Promise.reject(new StoreError('denied', key, 'HTTP 403: AccessDenied')) : store.get(key, options)),
      },
    });
    const first = await ingest(refusing, { to: hour(1) });
    assert.deepEqual(first.delivered, ['2019-09-20T00Z']);
    assert.deepEqual([first.summary.failed, first.summary.deadLetters], [1, 0]);
    denying = false;
    assert.deepEqual((await ingest(refusing, { to: hour(1) })).delivered, ['2019-09-20T01Z']);
  });
});
