import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AvroCodec } from '../../bus/avro/codec.js';
import { FileBus } from '../../bus/files/file-bus.js';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { runEventConsumer, type EventOutcome } from '../../pipelines/consume-events.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { SMALL_CONFIG } from '../model/fixtures.js';
import { putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { objectCreatedRecord } from '../support/object-events.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-events-batching-'));
  await selectBackend('cpu', 'inference', silentLogger);
});
after(() => rm(work, { recursive: true, force: true }));

describe('the event consumer and the encoder batches', () => {
  it("runs an event's fields as one batch as soon as they are all in: the batch waits for no fields of other events, which are taken only after it (a batch wait of 600 s)", { timeout: 30_000 }, async () => {
    const source = new FolderStore(join(work, 'source'));
    const keys = [0, 1, 2].map((n) => smallAnalysisOfHour(n).key);
    for (const n of [0, 1, 2]) await putAnalysis(source, smallAnalysisOfHour(n));
    const bus = new FileBus(join(work, 'bus'));
    await bus.createTopic('object-events', { partitions: 1 });
    await bus.produce('object-events', keys.map((key) => objectCreatedRecord(key)));
    const model = { autoencoder: createAutoencoder({ config: SMALL_CONFIG }), id: 'models', alertThreshold: null, backend: 'cpu' };
    const stop = new AbortController();
    const outcomes: EventOutcome[] = [];
    const sizes: number[] = [];
    const config = {
      source,
      state: new FolderStore(join(work, 'state')),
      bus,
      codec: await AvroCodec.create(),
      model,
      match: /:REFC:/,
      events: { topic: 'object-events', group: 'embedders' },
      stop: stop.signal,
      batching: { maxBatch: 8, maxWaitMs: 600_000, onBatch: (size: number) => void sizes.push(size) },
    };
    await runEventConsumer(config, (outcome) => (outcomes.push(outcome), outcomes.length === keys.length && stop.abort()), { log: silentLogger, signal: new AbortController().signal });
    assert.deepEqual(outcomes.map(({ kind, key }) => ({ kind, key })), keys.map((key) => ({ kind: 'done', key })));
    assert.deepEqual(sizes, [1, 1, 1], 'one batch per event, its one REFC field');
    await bus.close();
  });
});
