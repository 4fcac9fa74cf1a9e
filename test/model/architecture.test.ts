import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { createAutoencoder, disposeAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { summarizeLayers } from '../../model/summary.js';
import { silentLogger } from '../../stages/stage.js';
import { maxAbsDifference, SMALL_CONFIG } from './fixtures.js';

before(() => selectBackend('cpu', 'inference', silentLogger));

describe('the seed configuration', () => {
  it("has the article's 969,123 parameters, layer names and shapes", () => {
    const model = createAutoencoder();
    try {
      assert.equal(model.autoencoder.countParams(), 969_123);
      const shapes = Object.fromEntries(summarizeLayers(model.autoencoder).map(({ name, outputShape }) => [name, outputShape]));
      assert.deepEqual(shapes, {
        refc_input: [1059, 1799, 1],
        cropped: [1024, 1792, 1],
        encoder_conv_0: [1024, 1792, 16],
        encoder_pool_0: [256, 448, 16],
        encoder_conv_1: [256, 448, 32],
        encoder_pool_1: [64, 112, 32],
        encoder_conv_2: [64, 112, 64],
        encoder_pool_2: [16, 28, 64],
        encoder_conv_3: [16, 28, 128],
        encoder_pool_3: [4, 7, 128],
        encoder_flatten: [3584],
        refc_embedding: [50],
        decoder_dense: [3584],
        decoder_reshape: [4, 7, 128],
        decoder_conv_0: [4, 7, 128],
        decoder_upsamp_0: [16, 28, 128],
        decoder_conv_1: [16, 28, 64],
        decoder_upsamp_1: [64, 112, 64],
        decoder_conv_2: [64, 112, 32],
        decoder_upsamp_2: [256, 448, 32],
        decoder_conv_3: [256, 448, 16],
        decoder_upsamp_3: [1024, 1792, 16],
        before_padding: [1024, 1792, 1],
        refc_reconstructed: [1059, 1799, 1],
      });
      assert.equal(model.encoder.countParams() + model.decoder.countParams(), 969_123, 'encoder and decoder split the weights, none copied');
    } finally {
      disposeAutoencoder(model);
    }
  });
});

describe('the models that share the autoencoder weights', () => {
  it("encoder then decoder gives the full autoencoder's output", async () => {
    const model = createAutoencoder({ config: SMALL_CONFIG });
    const field = tf.randomUniform([2, 38, 70, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
    const cropped = tf.slice(field, [0, 3, 3, 0], [2, 32, 64, 1]);
    const whole = model.autoencoder.predict(field) as tf.Tensor;
    const twoSteps = model.decoder.predict(model.encoder.predict(cropped) as tf.Tensor) as tf.Tensor;
    assert.deepEqual(twoSteps.shape, [2, 38, 70, 1]);
    assert.ok(maxAbsDifference(await whole.data(), await twoSteps.data()) <= 1e-6);
    tf.dispose([field, cropped, whole, twoSteps]);
    disposeAutoencoder(model);
  });

  it("the one-pass embedder gives the encoder's embedding and the reconstruction before padding", async () => {
    const model = createAutoencoder({ config: SMALL_CONFIG });
    const cropped = tf.randomUniform([1, 32, 64, 1], 0, 1, 'float32', 8) as tf.Tensor4D;
    const [embedding, reconstruction] = model.embedder.predict(cropped) as tf.Tensor[];
    const alone = model.encoder.predict(cropped) as tf.Tensor;
    assert.deepEqual(Array.from(await embedding!.data()), Array.from(await alone.data()));
    assert.deepEqual(Array.from(await reconstruction!.data()), Array.from(await (model.croppedAutoencoder.predict(cropped) as tf.Tensor).data()));
    disposeAutoencoder(model);
  });

  it('training one model moves the weights of all of them', async () => {
    const { compileForTraining, trainStep } = await import('../../model/train.js');
    const model = createAutoencoder({ config: SMALL_CONFIG });
    const cropped = tf.randomUniform([1, 32, 64, 1], 0, 1, 'float32', 9) as tf.Tensor4D;
    const before = await (model.encoder.predict(cropped) as tf.Tensor).data();
    compileForTraining(model);
    await trainStep(model, cropped);
    const after = await (model.encoder.predict(cropped) as tf.Tensor).data();
    assert.ok(maxAbsDifference(before, after) > 0);
    disposeAutoencoder(model);
  });
});
