import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { createAutoencoder, disposeAutoencoder } from '../../model/autoencoder.js';
import { selectBackend, type Backend } from '../../model/backends.js';
import { largestActivationBytes, largestBatch } from '../../model/batch-limit.js';
import { embedBatch, type Embedding } from '../../model/embed.js';
import { compileForTraining, trainStep } from '../../model/train.js';
import { silentLogger } from '../../stages/stage.js';
import { maxAbsDifference, webgpuSkip } from './fixtures.js';

/** One block, 8 filters, 1024 x 1536 fields: a 48 MiB activation per image, so lavapipe's 128 MiB buffers take 2 at a time. */
const WIDE_CONFIG = { inputHeight: 1024, inputWidth: 1536, cropping: [[0, 0], [0, 0]], nlayers: 1, poolsize: 8, numfilters: 3, numdense: 4 };

async function embedThree(backend: Backend): Promise<{ results: Embedding[]; perPass: number }> {
  await selectBackend(backend, 'training', silentLogger);
  const model = createAutoencoder({ config: WIDE_CONFIG });
  const batch = tf.randomUniform([3, 1024, 1536, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
  try {
    return { results: await embedBatch(model, batch), perPass: largestBatch(model) };
  } finally {
    batch.dispose();
    disposeAutoencoder(model);
  }
}

describe("batches larger than the adapter's largest buffer", () => {
  it('are embedded in passes that fit, with the results of one pass on cpu', { skip: webgpuSkip }, async () => {
    const onCpu = await embedThree('cpu');
    const onWebgpu = await embedThree('webgpu');
    assert.equal(onCpu.perPass, Infinity);
    assert.ok(onWebgpu.perPass < 3, `the adapter takes ${onWebgpu.perPass} images a pass: nothing to split`);
    assert.equal(onWebgpu.results.length, 3);
    onWebgpu.results.forEach(({ embedding, reconstructionError }, i) => {
      const expected = onCpu.results[i]!;
      assert.ok(maxAbsDifference(embedding, expected.embedding) <= 1e-4 * Math.max(...expected.embedding.map(Math.abs)), `embedding ${i}`);
      assert.ok(Math.abs(reconstructionError - expected.reconstructionError) <= 1e-4 * expected.reconstructionError, `error ${i}`);
    });
  });

  it('are refused for a training step, naming the largest batch that fits', { skip: webgpuSkip }, async () => {
    await selectBackend('webgpu', 'training', silentLogger);
    const model = createAutoencoder({ config: WIDE_CONFIG });
    compileForTraining(model);
    const fits = largestBatch(model);
    const batch = tf.zeros([fits + 1, 1024, 1536, 1]) as tf.Tensor4D;
    try {
      assert.equal(largestActivationBytes(model), 1024 * 1536 * 8 * 4);
      await assert.rejects(trainStep(model, batch), new RegExp(`^Error: a batch of ${fits + 1} needs \\d+ MiB buffers, and this adapter binds at most 128 MiB: at most ${fits} fields per batch$`));
    } finally {
      batch.dispose();
      disposeAutoencoder(model);
    }
  });
});
