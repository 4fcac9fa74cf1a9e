import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients
import { selectBackend } from '../../model/backends.js';
import { silentLogger } from '../../stages/stage.js';
import { maxAbsDifference } from './fixtures.js';

/**
 * What the gradient must be, found from the forward pass alone: resizing an image of each point's
 * own index says which input point each output copies, and each output's gradient goes there.
 */
async function gradientByForwardPass(shape: [number, number, number, number], size: [number, number], alignCorners: boolean, dy: Float32Array): Promise<Float32Array> {
  const count = shape.reduce((a, b) => a * b, 1);
  const indices = tf.tensor4d(Float32Array.from({ length: count }, (_, i) => i), shape);
  const sources = (await tf.image.resizeNearestNeighbor(indices, size, alignCorners).data()) as Float32Array;
  indices.dispose();
  const gradient = new Float32Array(count);
  sources.forEach((source, i) => (gradient[source] += dy[i]!));
  return gradient;
}

describe('the cpu backend\'s gradient of nearest-neighbour resizing (UpSampling2D)', () => {
  const cases: Array<[[number, number, number, number], [number, number], boolean]> = [
    [[3, 4, 5, 2], [16, 20], false],
    [[2, 6, 4, 3], [9, 10], false],
    [[2, 5, 7, 1], [11, 13], true],
  ];
  for (const [shape, size, alignCorners] of cases) {
    it(`sends each output's gradient to the point it was copied from, in every image of a batch: ${shape.join('x')} to ${size.join('x')}${alignCorners ? ', corners aligned' : ''}`, async () => {
      await selectBackend('cpu', 'training', silentLogger);
      const x = tf.zeros(shape) as tf.Tensor4D;
      const dy = tf.randomUniform([shape[0], ...size, shape[3]], -1, 1, 'float32', 9);
      const dyValues = (await dy.data()) as Float32Array;
      const gradient = tf.grad((images: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(images as tf.Tensor4D, size, alignCorners), dy)))(x);
      const expected = await gradientByForwardPass(shape, size, alignCorners, dyValues);
      assert.ok(maxAbsDifference((await gradient.data()) as Float32Array, expected) < 1e-5);
      tf.dispose([x, dy, gradient]);
    });
  }
});
