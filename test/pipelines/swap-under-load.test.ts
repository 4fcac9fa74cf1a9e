import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { AvroCodec } from '../../bus/avro/codec.js';
import { FileBus } from '../../bus/files/file-bus.js';
import type { Alert, Embedding } from '../../bus/records.js';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { startEncoderThread } from '../../model/encoder-thread.js';
import { runConsumer } from '../../pipelines/consume.js';
import type { EncodeBatching } from '../../stages/transforms/encode.js';
import { ModelSlot, type ServedModel } from '../../pipelines/model-slot.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { take } from '../bus/helpers.js';
import { maxAbsDifference, SMALL_CONFIG } from '../model/fixtures.js';
import { hour, putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';

const HOURS = 16;
let work: string;
let source: FolderStore;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-swap-load-'));
  await selectBackend('cpu', 'inference', silentLogger);
  source = new FolderStore(join(work, 'source'));
  // Every third hour weather the models never saw: errors above the low threshold.
  for (let n = 0; n < HOURS; n++) await putAnalysis(source, smallAnalysisOfHour(n, n % 3 === 0));
});
after(() => rm(work, { recursive: true, force: true }));

/**
 * Two versions of different weights: "low" alerts on any field it reconstructs imperfectly,
 * "high" on none. Loaded anew at each promotion, as the follower does, with an encoder thread
 * or not.
 */
async function load(version: 'low' | 'high', thread: boolean): Promise<ServedModel> {
  const autoencoder = { ...createAutoencoder({ config: { ...SMALL_CONFIG, seed: version === 'low' ? 1 : 2 } }), version };
  const encoder = thread ? await startEncoderThread(autoencoder, 'cpu') : undefined;
  return { autoencoder, id: 'models', alertThreshold: version === 'low' ? 0 : 1e9, backend: 'cpu', ...(encoder && { encodeBatch: encoder.encodeBatch, close: encoder.close }) };
}

/** Runs the polling consumer over every hour onto its own bus; the embeddings and alerts it published, and the alert pictures it stored. */
async function consume(name: string, slot: ModelSlot, batching: EncodeBatching, concurrency: number): Promise<{ embeddings: Embedding[]; alerts: Alert[]; pictures: string[] }> {
  const codec = await AvroCodec.create();
  const bus = new FileBus(join(work, name, 'bus'));
  const state = new FolderStore(join(work, name, 'state'));
  const summary = await runConsumer({ source, state, bus, codec, model: slot, match: /:REFC:/, from: hour(0), to: hour(HOURS - 1), once: true, concurrency, batching }, undefined, { log: silentLogger, signal: new AbortController().signal });
  assert.equal(summary.done, HOURS);
  const embeddings = (await Promise.all((await take(bus.consumer({ group: 'check', topics: [codec.topics.embeddings], fromBeginning: true }), HOURS)).map(async (record) => (await codec.decode(record)).value))) as Embedding[];
  const alerting = embeddings.filter((embedding) => embedding.modelVersion === 'low' && embedding.reconstructionError > 0).length;
  const alerts = (await Promise.all((await take(bus.consumer({ group: 'check', topics: [codec.topics.alerts], fromBeginning: true }), alerting)).map(async (record) => (await codec.decode(record)).value))) as Alert[];
  await bus.close();
  const pictures: string[] = [];
  for await (const { key } of state.list('alerts/')) pictures.push(key);
  return { embeddings, alerts, pictures };
}

describe('model versions promoted over and over while a consumer encodes in batches', () => {
  for (const thread of [false, true]) {
    it(`every record names the version that made it, with that version's threshold, and each embedding is the one that version gives the field alone (${thread ? 'encoder thread' : 'main thread'})`, async () => {
      const tensorsBefore = tf.memory().numTensors;
      // Each version alone, one field per batch: what each record must equal.
      const alone: Record<string, Embedding[]> = {};
      for (const version of ['low', 'high'] as const) {
        const slot = new ModelSlot(await load(version, thread));
        alone[version] = (await consume(`${version}-alone-${thread}`, slot, { maxBatch: 1, maxWaitMs: 0 }, 1)).embeddings;
        await slot.close();
      }

      const slot = new ModelSlot(await load('low', thread));
      const oneVersion = tf.memory().numTensors;
      // A new version promoted as each batch starts: the fields of the batch before are still on
      // their way to publication (thresholds looked up, alert pictures drawn) as it takes over.
      let promotions = 0;
      const promote = async () => {
        await slot.replace(await load(promotions % 2 === 0 ? 'high' : 'low', thread));
        promotions++;
      };
      // Batches of up to 4, and partial ones when the last hours leave fewer waiting.
      const { embeddings, alerts, pictures } = await consume(`swapping-${thread}`, slot, { maxBatch: 4, maxWaitMs: 5, onBatch: promote }, 4);
      assert.equal(tf.memory().numTensors, oneVersion, 'every replaced copy freed once its fields were published: the current one alone is loaded');
      await slot.close();

      assert.ok(promotions >= HOURS / 4, `${promotions} promotions while it ran`);
      assert.deepEqual(embeddings.map(({ validTime }) => validTime.getTime()).sort((a, b) => a - b), Array.from({ length: HOURS }, (_, n) => hour(n).getTime()), 'each hour once');
      assert.deepEqual(new Set(embeddings.map(({ modelVersion }) => modelVersion)), new Set(['low', 'high']), 'both versions encoded some');
      for (const embedding of embeddings) {
        const expected = alone[embedding.modelVersion]!.find(({ validTime }) => validTime.getTime() === embedding.validTime.getTime())!;
        assert.ok(maxAbsDifference(embedding.embedding, expected.embedding) <= 1e-6, `${embedding.validTime.toISOString()}: the embedding ${embedding.modelVersion} gives it alone`);
        assert.ok(Math.abs(embedding.reconstructionError - expected.reconstructionError) <= 1e-6, `${embedding.validTime.toISOString()}: the error ${embedding.modelVersion} gives it alone`);
      }
      for (const alert of alerts) assert.deepEqual({ version: alert.modelVersion, threshold: alert.threshold }, { version: 'low', threshold: 0 });
      assert.equal(pictures.length, alerts.length, `an alert for each field low encoded imperfectly, none more: ${pictures.join(', ')}`);
      assert.equal(tf.memory().numTensors, tensorsBefore, 'every copy freed');
    });
  }
});
