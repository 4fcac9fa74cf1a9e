import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients
import { createAutoencoder, disposeAutoencoder } from '../../model/autoencoder.js';
import { selectBackend, type Backend } from '../../model/backends.js';
import { silentLogger } from '../../stages/stage.js';
import { maxAbsDifference, webgpuSkip } from './fixtures.js';

type Shape4 = [number, number, number, number];

/** What the issue asks of every kernel of ours: float32 results within 1e-4 of cpu's, relative to their largest value. */
const RELATIVE_TOLERANCE = 1e-4;

interface Case {
  x: Shape4;
  filter: Shape4;
  strides?: number;
  pad?: 'same' | 'valid';
  /** Few enough that the weight gradient's chunks span several rows, the last one fewer than the rest. */
  filterThreads?: number;
}

/**
 * The autoencoder's shapes, scaled down: its first layer (one input channel), its last (one output
 * channel, a 3 x 3 filter on odd sizes), a middle one (only the weight gradient is ours there),
 * then strides and valid padding.
 */
const CASES: Case[] = [
  { x: [2, 64, 96, 1], filter: [4, 4, 1, 16] },
  { x: [2, 37, 53, 16], filter: [3, 3, 16, 1], filterThreads: 1000 },
  { x: [1, 33, 47, 8], filter: [4, 4, 8, 32], filterThreads: 5000 },
  { x: [2, 31, 29, 3], filter: [3, 3, 3, 1], strides: 2 },
  { x: [1, 20, 23, 1], filter: [4, 4, 1, 5], pad: 'valid' },
];

const describeCase = ({ x, filter, strides = 1, pad = 'same', filterThreads }: Case) =>
  `x ${x.join('x')}, filter ${filter.join('x')}, stride ${strides}, ${pad}${filterThreads ? `, weight gradient in chunks of several rows` : ''}`;

/** The convolution, its fused form with bias and relu, and the gradients for x and the filter, of fixed random inputs. */
function convolutions({ x: xShape, filter: filterShape, strides = 1, pad = 'same' }: Case): Record<string, tf.Tensor> {
  return tf.tidy(() => {
    const x = tf.randomUniform(xShape, -1, 1, 'float32', 1) as tf.Tensor4D;
    const filter = tf.randomUniform(filterShape, -1, 1, 'float32', 2) as tf.Tensor4D;
    const bias = tf.randomUniform([filterShape[3]], -1, 1, 'float32', 3) as tf.Tensor1D;
    const y = tf.conv2d(x, filter, strides, pad);
    const dy = tf.randomUniform(y.shape, -1, 1, 'float32', 4);
    const [dx, dFilter] = tf.grads((a: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, strides, pad), dy)))([x, filter]);
    return { conv2d: y, fused: tf.fused.conv2d({ x, filter, strides, pad, bias, activation: 'relu' }), inputGradient: dx!, filterGradient: dFilter! };
  });
}

async function valuesOn(backend: Backend, testCase: Case): Promise<Record<string, Float32Array>> {
  await selectBackend(backend, 'training', silentLogger);
  if (backend === 'webgpu') {
    const { setWebGpuAdapter, useWebGpuKernels } = await import('../../model/webgpu-kernels.js');
    setWebGpuAdapter('hardware');
    useWebGpuKernels('ours', { filterThreads: testCase.filterThreads });
  }
  const tensors = convolutions(testCase);
  const values = Object.fromEntries(await Promise.all(Object.entries(tensors).map(async ([name, t]) => [name, (await t.data()) as Float32Array] as const)));
  tf.dispose(Object.values(tensors));
  return values;
}

/** Lavapipe runs here what a hardware GPU gets, which is every kernel of ours. */
describe('our webgpu kernels, as chosen for a hardware GPU', () => {
  for (const testCase of CASES) {
    it(`give cpu's convolution, fused convolution and both gradients, to ${RELATIVE_TOLERANCE} relative, for ${describeCase(testCase)}`, { skip: webgpuSkip }, async () => {
      const expected = await valuesOn('cpu', testCase);
      const got = await valuesOn('webgpu', testCase);
      for (const [name, values] of Object.entries(expected)) {
        const scale = values.reduce((largest, value) => Math.max(largest, Math.abs(value)), 0);
        const difference = maxAbsDifference(got[name]!, values);
        assert.ok(difference <= RELATIVE_TOLERANCE * scale, `${name}: max difference ${difference}, largest value ${scale}`);
      }
    });
  }
});

/** Reductions as the loss and the bias gradients make them; the last two are below the size the two-step kernel takes (tfjs's then, but for an axis of size 1). */
const REDUCTIONS: Array<{ shape: number[]; axis: number[]; keepDims: boolean }> = [
  { shape: [3, 301, 517, 1], axis: [1, 2, 3], keepDims: false },
  { shape: [2, 257, 263, 1], axis: [0, 1, 2, 3], keepDims: true },
  { shape: [5, 80, 900], axis: [1, 2], keepDims: true },
  { shape: [2, 40, 50, 1], axis: [1, 2, 3], keepDims: false },
  { shape: [2, 40, 50, 1], axis: [3], keepDims: false },
];

async function reductionsOn(backend: Backend, { shape, axis, keepDims }: (typeof REDUCTIONS)[number]): Promise<{ sum: tf.Tensor; mean: tf.Tensor }> {
  await selectBackend(backend, 'inference', silentLogger);
  if (backend === 'webgpu') (await import('../../model/webgpu-kernels.js')).useWebGpuKernels('ours');
  return tf.tidy(() => {
    const x = tf.randomUniform(shape, -1, 2, 'float32', 5);
    return { sum: tf.sum(x, axis, keepDims), mean: tf.mean(x, axis, keepDims) };
  });
}

describe('our webgpu Sum and Mean', () => {
  for (const reduction of REDUCTIONS) {
    it(`give cpu's to ${RELATIVE_TOLERANCE} relative, and its shape, over axes ${reduction.axis.join(',')} of ${reduction.shape.join('x')}${reduction.keepDims ? ', dimensions kept' : ''}`, { skip: webgpuSkip }, async () => {
      const expected = await reductionsOn('cpu', reduction);
      const got = await reductionsOn('webgpu', reduction);
      for (const name of ['sum', 'mean'] as const) {
        assert.deepEqual(got[name].shape, expected[name].shape, name);
        const want = (await expected[name].data()) as Float32Array;
        const scale = want.reduce((largest, value) => Math.max(largest, Math.abs(value)), 0);
        const difference = maxAbsDifference((await got[name].data()) as Float32Array, want);
        assert.ok(difference <= RELATIVE_TOLERANCE * scale, `${name}: max difference ${difference}, largest value ${scale}`);
      }
    });
  }
});

/** A model big enough for the two-step mean (81,920 points an image), with the seed's kinds of layers. */
const GRADIENT_CONFIG = { inputHeight: 256, inputWidth: 320, cropping: [[0, 0], [0, 0]], nlayers: 2, poolsize: 4, numfilters: 2, numdense: 8 };

/** The gradient of the training loss (Keras's log-cosh: a mean over the channel, then over all) for every weight. */
async function trainingGradients(backend: Backend): Promise<Map<string, Float32Array>> {
  await selectBackend(backend, 'training', silentLogger);
  if (backend === 'webgpu') {
    const { setWebGpuAdapter, useWebGpuKernels } = await import('../../model/webgpu-kernels.js');
    setWebGpuAdapter('hardware');
    // Fewer threads than a GPU's default, so that the full-resolution layers' weight gradients sum chunks of several rows.
    useWebGpuKernels('ours', { filterThreads: 1 << 14 });
  }
  const model = createAutoencoder({ config: GRADIENT_CONFIG });
  const batch = tf.randomUniform([2, 256, 320, 1], 0, 1, 'float32', 6) as tf.Tensor4D;
  try {
    const { grads } = tf.variableGrads(() => {
      const error = tf.sub(model.croppedAutoencoder.apply(batch, { training: true }) as tf.Tensor, batch);
      const logCosh = tf.sub(tf.add(error, tf.softplus(tf.mul(error, -2))), Math.log(2));
      return tf.mean(tf.mean(logCosh, -1)) as tf.Scalar;
    }, model.croppedAutoencoder.trainableWeights.map((weight) => weight.read() as tf.Variable));
    const gradients = new Map<string, Float32Array>();
    for (const [name, gradient] of Object.entries(grads)) gradients.set(name.replace(/_\d+$/, ''), (await gradient.data()) as Float32Array);
    tf.dispose(Object.values(grads));
    return gradients;
  } finally {
    batch.dispose();
    disposeAutoencoder(model);
  }
}

describe('a training step with our webgpu kernels', () => {
  it(`gives cpu's gradient for every weight of a 256 x 320 autoencoder, to ${RELATIVE_TOLERANCE} relative`, { skip: webgpuSkip }, async () => {
    const expected = await trainingGradients('cpu');
    const got = await trainingGradients('webgpu');
    assert.deepEqual([...got.keys()], [...expected.keys()]);
    assert.ok(expected.size >= 12, `${expected.size} weights`);
    for (const [name, values] of expected) {
      const scale = values.reduce((largest, value) => Math.max(largest, Math.abs(value)), 0);
      const difference = maxAbsDifference(got.get(name)!, values);
      assert.ok(difference <= RELATIVE_TOLERANCE * scale, `${name}: max difference ${difference}, largest value ${scale}`);
    }
  });
});
