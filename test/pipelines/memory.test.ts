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
import { runEventConsumer, type EventOutcome } from '../../pipelines/consume-events.js';
import { ModelSlot } from '../../pipelines/model-slot.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { hour, putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { objectCreatedRecord } from '../support/object-events.js';
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

/**
 * The timers and handles held most of the time: each kind's most frequent count over 20 looks 10 ms
 * apart. A running consumer polls, so one look may catch it between a timer and a file read; what
 * leaks adds to the count at every look.
 */
async function usualResources(): Promise<string[]> {
  const looks: Array<Map<string, number>> = [];
  for (let look = 0; look < 20; look++) {
    const counts = new Map<string, number>();
    for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
    looks.push(counts);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const usual: string[] = [];
  for (const kind of new Set(looks.flatMap((counts) => [...counts.keys()]))) {
    const seen = new Map<number, number>();
    for (const counts of looks) seen.set(counts.get(kind) ?? 0, (seen.get(counts.get(kind) ?? 0) ?? 0) + 1);
    const [count] = [...seen].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]!;
    if (count > 0) usual.push(`${kind} x${count}`);
  }
  return usual.sort();
}

describe('what a long-running consumer holds', () => {
  it('stays the same analysis after analysis: tensors, the abort listeners of its signal, timers and handles; alerts, dead letters and model swaps included', async () => {
    const codec = await AvroCodec.create();
    const bus = new FileBus(join(work, 'bus'));
    const state = new FolderStore(join(work, 'state'));
    const abort = new AbortController();
    const tensorsBefore = tf.memory().numTensors;
    const slot = new ModelSlot(served('v0'));
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
      held.push({ tensors: tf.memory().numTensors, listeners: getEventListeners(abort.signal, 'abort').length, resources: await usualResources() });
    }
    assert.deepEqual(held.slice(2), held.slice(1, -1), 'the same after each round from the second on');
    let pictures = 0;
    for await (const _ of state.list('alerts/')) pictures++;
    assert.equal(pictures, 4, 'an alert with its picture each round');
    await slot.close();
    await bus.close();
    assert.equal(tf.memory().numTensors, tensorsBefore);
  });

  it('driven by object-created events, stays the same event after event: tensors, the abort listeners of its signals, timers and handles', async () => {
    const codec = await AvroCodec.create();
    const bus = new FileBus(join(work, 'events-bus'));
    await bus.createTopic('object-events', { partitions: 1 });
    const source = new FolderStore(join(work, 'events-source'));
    const state = new FolderStore(join(work, 'events-state'));
    const abort = new AbortController();
    const stop = new AbortController();
    const tensorsBefore = tf.memory().numTensors;
    const slot = new ModelSlot(served('v0'));
    const outcomes: EventOutcome[] = [];
    const config = { source, state, bus, codec, model: slot, match: /:REFC:/, events: { topic: 'object-events', group: 'memory' }, stop: stop.signal, batching: { maxBatch: 4, maxWaitMs: 20 } };
    const running = runEventConsumer(config, (outcome) => outcomes.push(outcome), { log: silentLogger, signal: abort.signal });
    const held: Array<{ tensors: number; listeners: number[]; resources: string[] }> = [];
    for (let round = 0; round < 4; round++) {
      const first = 4 * round;
      const analyses = [smallAnalysisOfHour(first), smallAnalysisOfHour(first + 1), smallAnalysisOfHour(first + 2), smallAnalysisOfHour(first + 3, true)];
      for (const analysis of analyses) await putAnalysis(source, analysis.time.getTime() === hour(first + 2).getTime() ? { ...analysis, grib2: analysis.grib2.map((byte, i) => (i >= 30 && i < 60 ? 0xff : byte)) } : analysis);
      await bus.produce('object-events', [...analyses.map(({ key }) => objectCreatedRecord(key)), { key: null, value: new TextEncoder().encode('not an event') }]);
      const expected = 5 * (round + 1);
      const deadline = Date.now() + 30_000;
      while (outcomes.length < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(outcomes.length, expected);
      await slot.replace(served(`v${round + 1}`));
      held.push({ tensors: tf.memory().numTensors, listeners: [abort.signal, stop.signal].map((signal) => getEventListeners(signal, 'abort').length), resources: await usualResources() });
    }
    stop.abort();
    await running;
    assert.deepEqual(held.slice(2), held.slice(1, -1), 'the same after each round from the second on');
    assert.deepEqual(
      outcomes.slice(0, 5).map(({ kind }) => kind).sort(),
      ['dead-letter', 'dead-letter', 'done', 'done', 'done'],
    );
    await slot.close();
    await bus.close();
    assert.equal(tf.memory().numTensors, tensorsBefore);
  });
});
