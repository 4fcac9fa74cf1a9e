import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { AvroCodec } from '../../bus/avro/codec.js';
import { decodeValues, readFields } from '../../grib2/index.js';
import { createAutoencoder, withSharedModels } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { createAnalysisEmbedder, type Produce } from '../../pipelines/embed-analysis.js';
import { ModelSlot, type ServedModel } from '../../pipelines/model-slot.js';
import { silentLogger } from '../../stages/stage.js';
import type { DecodedField } from '../../stages/types.js';
import { FolderStore } from '../../store/folder.js';
import { SMALL_CONFIG } from '../model/fixtures.js';
import { smallAnalysisOfHour } from '../support/analyses.js';

let work: string;
let codec: AvroCodec;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-lifetime-'));
  await selectBackend('cpu', 'inference', silentLogger);
  codec = await AvroCodec.create();
});
after(() => rm(work, { recursive: true, force: true }));

const context = { log: silentLogger, signal: new AbortController().signal };

/** A small model under a version name that alerts on every field (so each publication draws a picture with it); `closed` records when it is freed. */
function served(version: string, closed: string[]): ServedModel {
  const { autoencoder, config, normalization } = createAutoencoder({ config: SMALL_CONFIG });
  return { autoencoder: withSharedModels(autoencoder, config, normalization, version), id: 'models', alertThreshold: 0, backend: 'cpu', close: async () => void closed.push(version) };
}

async function decodedOfHour(n: number): Promise<DecodedField> {
  const { key, grib2 } = smallAnalysisOfHour(n);
  const [field] = readFields(grib2);
  return { source: { store: 'memory://source', key }, field: field!, values: await decodeValues(field!) };
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((yes, no) => ((resolve = yes), (reject = no)));
  return { promise, resolve, reject };
}

/** A bus that keeps every record, and holds back (or fails) the publications of the hours it is told to until let go: a stalled bus. */
function stallingBus() {
  const published: string[] = [];
  const held = new Map<string, { reached: Deferred; go: Deferred }>();
  const gate = (key: string) => {
    let entry = held.get(key);
    if (!entry) held.set(key, (entry = { reached: deferred(), go: deferred() }));
    return entry;
  };
  const produce = (hour: number): Produce => async (topic) => {
    const entry = held.get(String(hour));
    if (entry) {
      entry.reached.resolve();
      await entry.go.promise;
    }
    published.push(`${topic} ${hour}`);
  };
  return {
    published,
    produce,
    hold: (hour: number) => void gate(String(hour)),
    /** Resolves once the hour's first record is held back: its field was encoded. */
    reached: (hour: number) => gate(String(hour)).reached.promise,
    release: (hour: number) => gate(String(hour)).go.resolve(),
    fail: (hour: number) => gate(String(hour)).go.reject(new Error('broker went away')),
  };
}

describe('a replaced model version stays loaded exactly as long as the fields it encoded are on their way', () => {
  it('keeps it while a publication is held back past the old 10-minute bound, and draws the alert picture with it once the bus recovers', async () => {
    const closed: string[] = [];
    const slot = new ModelSlot(served('v1', closed));
    const pictures = new FolderStore(join(work, 'stalled'));
    const embedder = createAnalysisEmbedder({ codec, model: slot, pictures });
    const bus = stallingBus();
    bus.hold(0);
    const publishing = embedder.publish([await decodedOfHour(0)], bus.produce(0), context);
    await bus.reached(0);

    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      await slot.replace(served('v2', closed));
      mock.timers.tick(11 * 60_000); // the bus stalls for 11 minutes
    } finally {
      mock.timers.reset();
    }
    assert.equal(slot.version('v1')?.autoencoder.version, 'v1', 'v1 is kept for its field held back');
    bus.release(0);
    await publishing;
    assert.deepEqual(bus.published, [`${codec.topics.embeddings} 0`, `${codec.topics.alerts} 0`]);
    const keys: string[] = [];
    for await (const { key } of pictures.list('alerts/')) keys.push(key);
    assert.match(keys.join(), /-v1\.png$/, 'the picture drawn with v1, which encoded the field');
    assert.ok(closed.includes('v1'), 'freed once its last field is published');
    assert.equal(slot.version('v1'), undefined);
    await slot.close();
  });

  it('frees it right after its last field is done, published or failed, while fields encoded later by the new version are unaffected; no tensor is left', async () => {
    const closed: string[] = [];
    const slot = new ModelSlot(served('v1', closed));
    const oneVersion = tf.memory().numTensors;
    const embedder = createAnalysisEmbedder({ codec, model: slot, pictures: new FolderStore(join(work, 'freed')), batching: { maxBatch: 4, maxWaitMs: 20 } });
    const bus = stallingBus();
    for (const hour of [0, 1, 2]) bus.hold(hour);
    // Hours 0 and 1 are encoded together by v1; hour 2, after the swap, by v2.
    const first = [0, 1].map(async (hour) => embedder.publish([await decodedOfHour(hour)], bus.produce(hour), context));
    await Promise.all([bus.reached(0), bus.reached(1)]);
    await slot.replace(served('v2', closed));
    const later = embedder.publish([await decodedOfHour(2)], bus.produce(2), context);
    await bus.reached(2);

    bus.release(0);
    await first[0];
    assert.deepEqual(closed, [], 'hour 1, encoded by v1, is still on its way');
    bus.fail(1);
    await assert.rejects(first[1]!, /broker went away/);
    assert.deepEqual(closed, ['v1'], 'freed as soon as its last field failed');
    assert.equal(slot.version('v1'), undefined);
    assert.equal(tf.memory().numTensors, oneVersion, "v1's weights freed, v2's alone loaded");

    bus.release(2);
    await later;
    assert.ok(bus.published.includes(`${codec.topics.alerts} 2`));
    assert.deepEqual(closed, ['v1']);
    await slot.close();
    assert.deepEqual(closed, ['v1', 'v2']);
  });
});
