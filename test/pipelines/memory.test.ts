import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { AvroCodec } from '../../bus/avro/codec.js';
import { FileBus } from '../../bus/files/file-bus.js';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { runConsumer } from '../../pipelines/consume.js';
import { ModelSlot } from '../../pipelines/model-slot.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { hour, putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { SMALL_CONFIG } from '../model/fixtures.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-consumer-memory-'));
  await selectBackend('cpu', 'inference', silentLogger);
});
after(() => rm(work, { recursive: true, force: true }));

const served = (version: string) => {
  const autoencoder = { ...createAutoencoder({ config: SMALL_CONFIG }), version };
  return { autoencoder, id: 'models', alertThreshold: 0.1, backend: 'cpu' };
};

describe('what a long-running consumer holds', () => {
  it('stays the same analysis after analysis: tensors, the abort listeners of its signal, timers and handles; alerts, dead letters and model swaps included', async () => {
    const codec = await AvroCodec.create();
    const bus = new FileBus(join(work, 'bus'));
    const state = new FolderStore(join(work, 'state'));
    const abort = new AbortController();
    const tensorsBefore = tf.memory().numTensors;
    const slot = new ModelSlot(served('v0'), { retireAfterMs: 0 });
    const held: Array<{ tensors: number; listeners: number; resources: string[] }> = [];
    for (let round = 0; round < 4; round++) {
      // Two usual hours, a corrupt object (a dead letter), unusual weather (an alert and its picture).
      const source = new FolderStore(join(work, `source-${round}`));
      const first = 4 * round;
      for (const n of [first, first + 1]) await putAnalysis(source, smallAnalysisOfHour(n));
      const corrupt = smallAnalysisOfHour(first + 2);
      await putAnalysis(source, { ...corrupt, grib2: corrupt.grib2.map((byte, i) => (i >= 30 && i < 60 ? 0xff : byte)) });
      await putAnalysis(source, smallAnalysisOfHour(first + 3, true));
      const config = { source, state, bus, codec, model: slot, match: /:REFC:/, from: hour(first), to: hour(first + 3), once: true, concurrency: 4, batching: { maxBatch: 4, maxWaitMs: 20 } };
      const summary = await runConsumer(config, undefined, { log: silentLogger, signal: abort.signal });
      assert.deepEqual({ done: summary.done, deadLetters: summary.deadLetters }, { done: 3, deadLetters: 1 });
      await slot.replace(served(`v${round + 1}`));
      await new Promise((resolve) => setTimeout(resolve, 10)); // the replaced version's retirement
      held.push({ tensors: tf.memory().numTensors, listeners: getEventListeners(abort.signal, 'abort').length, resources: process.getActiveResourcesInfo().sort() });
    }
    assert.deepEqual(held.slice(2), held.slice(1, -1), 'the same after each round from the second on');
    let pictures = 0;
    for await (const _ of state.list('alerts/')) pictures++;
    assert.equal(pictures, 4, 'an alert with its picture each round');
    await slot.close();
    await bus.close();
    assert.equal(tf.memory().numTensors, tensorsBefore);
  });
});
