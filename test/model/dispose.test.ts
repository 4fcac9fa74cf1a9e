import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { createAutoencoder, disposeAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { embedFields } from '../../model/embed.js';
import { compileForTraining, trainStep } from '../../model/train.js';
import { loadVersion, saveVersion } from '../../model/versions.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { SMALL_CONFIG } from './fixtures.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-dispose-'));
  await selectBackend('cpu', 'inference', silentLogger);
});
after(() => rm(work, { recursive: true, force: true }));

const field = { height: 32, width: 64, values: new Float32Array(32 * 64).fill(0.3) };

describe('freeing a model', () => {
  it('disposeAutoencoder frees every weight of a fresh model and of a loaded version, used or not', async () => {
    const models = new FolderStore(join(work, 'models'));
    const saved = createAutoencoder({ config: SMALL_CONFIG });
    await saveVersion(models, saved, { modelId: 'v1' });
    disposeAutoencoder(saved);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const fresh = createAutoencoder({ config: SMALL_CONFIG });
      await embedFields(fresh, [field]);
      disposeAutoencoder(fresh);
      disposeAutoencoder((await loadVersion(models, 'v1')).model);
    }
    assert.equal(tf.memory().numTensors, before);
  });

  it('disposeAutoencoder frees a trained model with its optimizer (the Adam moments), run after run', async () => {
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const model = createAutoencoder({ config: SMALL_CONFIG });
      compileForTraining(model, { learningRate: 0.001 });
      const batch = tf.tensor4d(new Float32Array(2 * 32 * 64).fill(0.2), [2, 32, 64, 1]);
      await trainStep(model, batch);
      batch.dispose();
      disposeAutoencoder(model);
    }
    assert.equal(tf.memory().numTensors, before);
  });
});
