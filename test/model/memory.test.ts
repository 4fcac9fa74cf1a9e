import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { createAutoencoder, disposeAutoencoder, type Autoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { embedFields } from '../../model/embed.js';
import { reconstruct } from '../../model/picture.js';
import { silentLogger } from '../../stages/stage.js';
import { SMALL_CONFIG } from './fixtures.js';

let model: Autoencoder;
before(async () => {
  await selectBackend('cpu', 'inference', silentLogger);
  model = createAutoencoder({ config: SMALL_CONFIG });
});
after(() => disposeAutoencoder(model));

const field = (level: number) => ({ height: 32, width: 64, values: new Float32Array(32 * 64).fill(level) });

/** The tensors left behind by `work`, done three times. */
async function leftBehind(work: () => Promise<unknown>): Promise<number> {
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) await work();
  return tf.memory().numTensors - before;
}

describe('tensors of encoding', () => {
  it('embedding batches and reconstructing fields leave no tensor behind', async () => {
    assert.equal(await leftBehind(() => embedFields(model, [field(0.2)])), 0);
    assert.equal(await leftBehind(() => embedFields(model, [field(0.1), field(0.5), field(0.9)])), 0);
    assert.equal(await leftBehind(() => reconstruct(model, field(0.4))), 0);
  });

  it('a batch that fails, on a field of the wrong shape or in a forward pass that throws, leaves no tensor behind', async () => {
    const wrong = { height: 31, width: 64, values: new Float32Array(31 * 64) };
    assert.equal(await leftBehind(() => assert.rejects(embedFields(model, [wrong]), /cropped fields of 32 x 64 x 1/)), 0);
    const predict = model.embedder.predict.bind(model.embedder);
    model.embedder.predict = (...args) => {
      predict(...args);
      throw new Error('the forward pass failed');
    };
    try {
      assert.equal(await leftBehind(() => assert.rejects(embedFields(model, [field(0.3), field(0.6)]), /the forward pass failed/)), 0);
      assert.equal(await leftBehind(() => assert.rejects(reconstruct(model, field(0.3)), /the forward pass failed/)), 0);
    } finally {
      model.embedder.predict = predict;
    }
  });
});
