import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients
import { selectBackend, type Backend } from '../../model/backends.js';
import { silentLogger } from '../../stages/stage.js';
import { maxAbsDifference, webgpuSkip } from './fixtures.js';

/** The weight gradient of a "same" convolution of random x, against random output gradients. */
async function filterGradient(backend: Backend, xShape: [number, number, number, number], filterShape: [number, number, number, number]): Promise<Float32Array> {
  await selectBackend(backend, 'training', silentLogger);
  // Lavapipe gets tfjs's kernel by default (the chunked one is no faster there): test the chunked one.
  if (backend === 'webgpu') (await import('../../model/webgpu-conv-filter.js')).useChunkedConv2DBackpropFilter(true);
  const x = tf.randomUniform(xShape, -1, 1, 'float32', 1) as tf.Tensor4D;
  const filter = tf.randomUniform(filterShape, -1, 1, 'float32', 2) as tf.Tensor4D;
  const dy = tf.randomUniform([xShape[0], xShape[1], xShape[2], filterShape[3]], -1, 1, 'float32', 3);
  const gradient = tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, w as tf.Tensor4D, 1, 'same'), dy)))(filter);
  const values = (await gradient.data()) as Float32Array;
  tf.dispose([x, filter, dy, gradient]);
  return values;
}

describe("webgpu's chunked Conv2DBackpropFilter", () => {
  // The autoencoder's shapes, scaled down: the first encoder layer, the last decoder layer, a middle one.
  const shapes: Array<[[number, number, number, number], [number, number, number, number]]> = [
    [[2, 64, 96, 1], [4, 4, 1, 16]],
    [[2, 64, 96, 16], [3, 3, 16, 1]],
    [[1, 33, 47, 8], [4, 4, 8, 32]],
  ];
  for (const [xShape, filterShape] of shapes) {
    it(`gives cpu's weight gradient for x ${xShape.join('x')}, filter ${filterShape.join('x')}, to 2e-5 of its largest value`, { skip: webgpuSkip }, async () => {
      const expected = await filterGradient('cpu', xShape, filterShape);
      const got = await filterGradient('webgpu', xShape, filterShape);
      const scale = Math.max(...expected.map(Math.abs));
      assert.ok(maxAbsDifference(got, expected) <= 2e-5 * scale, `max difference ${maxAbsDifference(got, expected)}, largest value ${scale}`);
    });
  }
});
