import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createAutoencoder, disposeAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { MODEL_PRESETS } from '../../model/config.js';
import { compileForTraining } from '../../model/train.js';
import { silentLogger } from '../../stages/stage.js';
import { maxAbsDifference, SMALL_CONFIG } from './fixtures.js';

before(() => selectBackend('cpu', 'inference', silentLogger));

/** What the article's create_model builds for nlayers 4, poolsize 4, numfilters 4, num_dense 50, layer by layer. */
function articleLayers(): Array<{ name: string; kernel?: number; inputs?: number; units: number; activation?: string }> {
  const [nlayers, poolsize, numfilters, numDense] = [4, 4, 4, 50];
  const layers = [];
  let channels = 1;
  for (let layerno = 0; layerno < nlayers; layerno++) {
    const filters = 2 ** (layerno + numfilters);
    layers.push({ name: `encoder_conv_${layerno}`, kernel: poolsize, inputs: channels, units: filters, activation: 'relu' });
    channels = filters;
  }
  const flattened = 4 * 7 * channels;
  layers.push({ name: 'refc_embedding', inputs: flattened, units: numDense, activation: 'linear' });
  layers.push({ name: 'decoder_dense', inputs: numDense, units: flattened, activation: 'linear' });
  for (let layerno = 0; layerno < nlayers; layerno++) {
    const filters = 2 ** (nlayers - layerno - 1 + numfilters);
    layers.push({ name: `decoder_conv_${layerno}`, kernel: poolsize, inputs: channels, units: filters, activation: 'relu' });
    channels = filters;
  }
  layers.push({ name: 'before_padding', kernel: 3, inputs: channels, units: 1, activation: 'relu' });
  return layers;
}

/** Keras's count: kernel x kernel x inputs x units weights and a bias per unit (a Dense layer is kernel 1). */
const kerasParams = ({ kernel = 1, inputs = 0, units }: { kernel?: number; inputs?: number; units: number }) => kernel * kernel * inputs * units + units;

describe("the seed model against the article's Keras code", () => {
  it('has every weighted layer with the kernel, filters, activation and parameter count Keras gives the article', () => {
    const model = createAutoencoder();
    try {
      const expected = articleLayers();
      assert.equal(expected.reduce((sum, layer) => sum + kerasParams(layer), 0), 969_123, "the formula gives the article's total");
      for (const layer of expected) {
        const config = model.autoencoder.getLayer(layer.name).getConfig();
        assert.equal(model.autoencoder.getLayer(layer.name).countParams(), kerasParams(layer), `${layer.name}: parameters`);
        assert.equal(config.activation, layer.activation, `${layer.name}: activation`);
        const { className, config: init } = config.kernelInitializer as { className: string; config: Record<string, unknown> };
        assert.deepEqual([className, init.scale, init.mode, init.distribution], ['VarianceScaling', 1, 'fanAvg', 'uniform'], `${layer.name}: Glorot uniform, Keras's default`);
        assert.equal((config.biasInitializer as { className: string }).className, 'Zeros', `${layer.name}: bias`);
        if (layer.kernel === undefined) continue;
        assert.deepEqual([config.kernelSize, config.strides, config.padding, config.filters], [[layer.kernel, layer.kernel], [1, 1], 'same', layer.units], `${layer.name}: Conv2D(${layer.units}, ${layer.kernel}, padding='same')`);
      }
      for (let layerno = 0; layerno < 4; layerno++) {
        const pool = model.autoencoder.getLayer(`encoder_pool_${layerno}`).getConfig();
        assert.deepEqual([pool.poolSize, pool.strides, pool.padding], [[4, 4], [4, 4], 'same'], `encoder_pool_${layerno}: MaxPooling2D(4, padding='same')`);
        const upsampling = model.autoencoder.getLayer(`decoder_upsamp_${layerno}`).getConfig();
        assert.deepEqual([upsampling.size, upsampling.interpolation], [[4, 4], 'nearest'], `decoder_upsamp_${layerno}: UpSampling2D(4)`);
      }
      assert.deepEqual(model.autoencoder.getLayer('cropped').getConfig().cropping, [[17, 18], [4, 3]]);
      assert.deepEqual(model.encoder.outputs[0]!.shape, [null, 50], 'the embedding is the refc_embedding Dense output, 50 numbers');
      assert.equal(model.encoder.outputs[0]!.sourceLayer.name, 'refc_embedding');
    } finally {
      disposeAutoencoder(model);
    }
  });

  it("puts the reconstruction back on the grid points its input was cropped from: refc_reconstructed pads by the crop's own margins", () => {
    // The article's htdiff//2 and wddiff//2 give ((17, 18), (3, 4)) against its crop ((17, 18), (4, 3)):
    // its loss over the whole field taught its network that one-column shift. Ours is trained on the
    // crop itself, so padding as the article does would draw every reconstruction a column west.
    const model = createAutoencoder();
    try {
      assert.deepEqual(model.autoencoder.getLayer('refc_reconstructed').getConfig().padding, [[17, 18], [4, 3]]);
    } finally {
      disposeAutoencoder(model);
    }
  });

  it('gives, at every grid point, the reconstruction of the cropped point that was there, also for an uneven crop', async () => {
    const config = { ...SMALL_CONFIG, inputHeight: 39, inputWidth: 71, cropping: [[4, 3], [2, 5]] };
    const model = createAutoencoder({ config });
    const field = tf.randomUniform([1, 39, 71, 1], 0, 1, 'float32', 11) as tf.Tensor4D;
    const cropped = tf.slice(field, [0, 4, 2, 0], [1, 32, 64, 1]);
    const whole = model.autoencoder.predict(field) as tf.Tensor;
    const inPlace = tf.pad(model.croppedAutoencoder.predict(cropped) as tf.Tensor4D, [[0, 0], [4, 3], [2, 5], [0, 0]]);
    try {
      assert.ok(maxAbsDifference(await whole.data(), await inPlace.data()) <= 1e-6);
    } finally {
      tf.dispose([field, cropped, whole, inPlace]);
      disposeAutoencoder(model);
    }
  });

  it("trains with Keras's Adam (0.001, 0.9, 0.999, 1e-7) on LogCosh", () => {
    const model = createAutoencoder({ config: SMALL_CONFIG });
    try {
      compileForTraining(model);
      const trained = model.croppedAutoencoder as tfl.LayersModel & { loss: unknown };
      assert.equal(trained.loss, 'logcosh');
      const adam = trained.optimizer.getConfig();
      assert.deepEqual([adam.learningRate, adam.beta1, adam.beta2, adam.epsilon ?? tf.backend().epsilon()], [0.001, 0.9, 0.999, 1e-7]);
    } finally {
      disposeAutoencoder(model);
    }
  });

  it('the reduced and demo presets differ from the seed only in downsample and nlayers', () => {
    for (const [name, downsample, nlayers] of [['reduced', 4, 3], ['demo', 16, 2]] as const) {
      assert.deepEqual(MODEL_PRESETS[name], { ...MODEL_PRESETS.seed, downsample, nlayers }, name);
    }
  });
});
