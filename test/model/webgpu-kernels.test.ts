import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients
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
}

/**
 * The autoencoder's shapes, scaled down: its first layer (one input channel), its last (one output
 * channel, a 3 x 3 filter on odd sizes), a middle one (only the weight gradient is ours there),
 * then strides and valid padding.
 */
const CASES: Case[] = [
  { x: [2, 64, 96, 1], filter: [4, 4, 1, 16] },
  { x: [2, 37, 53, 16], filter: [3, 3, 16, 1] },
  { x: [1, 33, 47, 8], filter: [4, 4, 8, 32] },
  { x: [2, 31, 29, 3], filter: [3, 3, 3, 1], strides: 2 },
  { x: [1, 20, 23, 1], filter: [4, 4, 1, 5], pad: 'valid' },
];

const describeCase = ({ x, filter, strides = 1, pad = 'same' }: Case) => `x ${x.join('x')}, filter ${filter.join('x')}, stride ${strides}, ${pad}`;

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
    useWebGpuKernels('ours');
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
