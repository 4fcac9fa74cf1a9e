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
import { smallFresh } from './fixtures.js';

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
});
