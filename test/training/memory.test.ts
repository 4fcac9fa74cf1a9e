import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { createAutoencoder, disposeAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { compileForTraining, trainStep } from '../../model/train.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { START } from '../../training/batches.js';
import { loadCheckpoint, readPointer, restoreOptimizer, saveCheckpoint, type RunPlan } from '../../training/checkpoints.js';
import { retrain, RunInterrupted } from '../../training/retrain.js';
import { smallFresh, smallRun } from './fixtures.js';
import { MemoryShardCatalog, smallShards } from './memory-shards.js';

const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-training-memory-'));
after(() => rmSync(work, { recursive: true, force: true }));
before(() => selectBackend('cpu', 'training', silentLogger));

describe('tensors of training', () => {
  it('training steps, checkpoints written and checkpoints loaded back leave no tensor behind, step after step', async () => {
    const models = new FolderStore(join(work, 'checkpoints'));
    const { config, normalization } = smallFresh();
    const plan = { runId: 'memory', config, normalization } as RunPlan;
    const model = createAutoencoder({ config, normalization });
    compileForTraining(model, { learningRate: 0.001 });
    const step = async () => {
      const batch = tf.tensor4d(new Float32Array(2 * 32 * 64).fill(0.2), [2, 32, 64, 1]);
      await trainStep(model, batch);
      batch.dispose();
    };
    await step(); // Adam makes its moments at the first step.
    const before = tf.memory().numTensors;
    for (let at = 2; at <= 4; at++) {
      await step();
      await saveCheckpoint(models, model, { plan, step: at, position: START, trainLoss: [], heldOutLoss: [] });
      const loaded = await loadCheckpoint(models, (await readPointer(models, 'memory'))!);
      compileForTraining(loaded.model, { learningRate: 0.001 });
      await restoreOptimizer(loaded.model, loaded.optimizer);
      disposeAutoencoder(loaded.model);
    }
    assert.equal(tf.memory().numTensors, before);
    disposeAutoencoder(model);
  });

  it('whole retraining runs leave no tensor behind: fresh, stopped and resumed, judged against a promoted version, failing on a resume whose shards are gone', async () => {
    const models = new FolderStore(join(work, 'runs'));
    const shards = smallShards(6, 4);
    const run = (overrides: Parameters<typeof smallRun>[2]) => retrain(smallRun(models, shards, { steps: 4, stepsPerCheckpoint: 2, batchSize: 2, ...overrides }));
    const before = tf.memory().numTensors;
    await run({ fresh: smallFresh(), runId: 'first' });
    const after = [tf.memory().numTensors];
    const stop = new AbortController();
    await assert.rejects(run({ runId: 'second', signal: stop.signal, onProgress: () => stop.abort() }), RunInterrupted);
    after.push(tf.memory().numTensors);
    await run({ runId: 'second' });
    after.push(tf.memory().numTensors);
    await assert.rejects(run({ runId: 'gone', signal: stop.signal }), RunInterrupted);
    await assert.rejects(retrain(smallRun(models, new MemoryShardCatalog([]), { runId: 'gone' })), /gone from the shard store/);
    after.push(tf.memory().numTensors);
    assert.deepEqual(after, after.map(() => before));
  });

  it('a resume from a checkpoint that lost its optimizer state fails, leaving no tensor behind', async () => {
    const models = new FolderStore(join(work, 'damaged'));
    const shards = smallShards(6, 4);
    const stop = new AbortController();
    stop.abort();
    const run = () => retrain(smallRun(models, shards, { fresh: smallFresh(), runId: 'damaged', steps: 4, stepsPerCheckpoint: 2, batchSize: 2, signal: stop.signal }));
    await assert.rejects(run(), RunInterrupted);
    await models.delete(`${(await readPointer(models, 'damaged'))!.checkpoint}optimizer.bin`);
    const before = tf.memory().numTensors;
    await assert.rejects(run(), /optimizer\.bin/);
    assert.equal(tf.memory().numTensors, before);
  });
});
