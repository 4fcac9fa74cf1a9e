import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { AvroCodec } from '../../bus/avro/codec.js';
import type { BusConsumer } from '../../bus/bus.js';
import { FileBus } from '../../bus/files/file-bus.js';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { runConsumer } from '../../pipelines/consume.js';
import { runEventConsumer } from '../../pipelines/consume-events.js';
import { startOperationsServer, type OperationsServer } from '../../runtime/operations-server.js';
import { Readiness } from '../../runtime/readiness.js';
import { silentLogger, StageUnavailableError, type Stage } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { hour, putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { objectCreatedRecord } from '../support/object-events.js';
import { SMALL_CONFIG } from '../model/fixtures.js';

let work: string;
let codec: AvroCodec;
before(async () => {
  [work, codec] = await Promise.all([mkdtemp(join(tmpdir(), 'hrrr-embed-failing-')), AvroCodec.create()]);
  await selectBackend('cpu', 'inference', silentLogger);
  const source = new FolderStore(join(work, 'source'));
  for (const n of [0, 1]) await putAnalysis(source, smallAnalysisOfHour(n));
});
after(() => rm(work, { recursive: true, force: true }));

/** A model whose encoder thread has died: every batch fails, through no fault of its fields. */
const deadEncoder = {
  autoencoder: createAutoencoder({ config: SMALL_CONFIG }),
  id: 'test-models',
  alertThreshold: null,
  backend: 'cpu',
  encodeBatch: async () => Promise.reject(new StageUnavailableError('the encoder thread exited (code 3)')),
};

/** Something the test lets go of when it has looked: `wait` resolves on `release`. */
function gate() {
  let release!: () => void;
  const wait = new Promise<void>((resolve) => (release = resolve));
  return { wait, release };
}

/** A ready consumer's readiness and its /readyz, which `onFailing` is to turn to failing; `failed` resolves when it has. */
async function readyConsumer(): Promise<{ readiness: Readiness; server: OperationsServer; failed: Promise<void>; onFailing(error: unknown): void; readyz(): Promise<string> }> {
  const readiness = new Readiness();
  readiness.modelIsLoaded();
  readiness.pipelineIsRunning();
  const server = await startOperationsServer({ host: '127.0.0.1', port: 0, registry: new Registry(), readiness });
  const seen = gate();
  return {
    readiness,
    server,
    failed: seen.wait,
    onFailing: (error) => {
      readiness.failing(error);
      seen.release();
    },
    readyz: async () => {
      const response = await fetch(`${server.url}/readyz`);
      return `${response.status} ${await response.text()}`;
    },
  };
}

/** While `held` keeps the run from ending, /readyz already says the run is failing; then the run ends with the encoder's failure. */
async function assertFailingBeforeTheEnd({ consumer, run, held, bus, stillUnderWay }: { consumer: Awaited<ReturnType<typeof readyConsumer>>; run: Promise<unknown>; held: ReturnType<typeof gate>; bus: FileBus; stillUnderWay: string }): Promise<void> {
  let settled = false;
  const ended = run.finally(() => (settled = true));
  try {
    await consumer.failed;
    assert.equal(await consumer.readyz(), '503 not ready: failing, shutting down: stage encode: the encoder thread exited (code 3)\n');
    assert.equal(settled, false, stillUnderWay);
    held.release();
    await assert.rejects(ended, /the encoder thread exited/);
  } finally {
    held.release();
    await bus.close();
    await consumer.server.close();
  }
}

describe('a consumer whose run fails', () => {
  it('polling: says so at once, while the analyses still in flight finish before the run ends', { timeout: 30_000 }, async () => {
    const consumer = await readyConsumer();
    const bus = new FileBus(join(work, 'polling-bus'));
    // Hour 1's fetch is held until /readyz has been read: the run cannot end before.
    const held = gate();
    const instrument = <In, Out>(stage: Stage<In, Out>): Stage<In, Out> => ({
      name: stage.name,
      async *process(input, context) {
        if (stage.name === 'fetch' && (input as { key: string }).key === smallAnalysisOfHour(1).key) await held.wait;
        yield* stage.process(input, context);
      },
    });
    const run = runConsumer(
      { source: new FolderStore(join(work, 'source')), state: new FolderStore(join(work, 'polling-state')), bus, codec, model: deadEncoder, match: /:REFC:/, from: hour(0), to: hour(1), once: true, concurrency: 2, instrument, onFailing: consumer.onFailing },
      undefined,
      { log: silentLogger, signal: new AbortController().signal },
    );
    await assertFailingBeforeTheEnd({ consumer, run, held, bus, stillUnderWay: 'hour 1 is still in flight' });
  });

  it('events: says so at once, before the consumer has left its group', { timeout: 30_000 }, async () => {
    const consumer = await readyConsumer();
    const bus = new FileBus(join(work, 'events-bus'));
    await bus.createTopic('objects');
    await bus.produce('objects', [objectCreatedRecord(smallAnalysisOfHour(0).key)]);
    // Leaving the group is held until /readyz has been read.
    const held = gate();
    const member = bus.consumer({ group: 'embedders', topics: ['objects'], fromBeginning: true });
    const leaving: BusConsumer = {
      records: (signal) => member.records(signal),
      commit: (records) => member.commit(records),
      close: async () => {
        await held.wait;
        await member.close();
      },
    };
    const run = runEventConsumer(
      { source: new FolderStore(join(work, 'source')), state: new FolderStore(join(work, 'events-state')), bus, codec, model: deadEncoder, match: /:REFC:/, events: { topic: 'objects', group: 'embedders' }, consumer: leaving, onFailing: consumer.onFailing },
      undefined,
      { log: silentLogger, signal: new AbortController().signal },
    );
    await assertFailingBeforeTheEnd({ consumer, run, held, bus, stillUnderWay: 'the consumer is still leaving its group' });
  });
});
