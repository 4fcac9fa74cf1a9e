import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend, type Backend } from '../../model/backends.js';
import { embedBatch, type Embedding } from '../../model/embed.js';
import { loadVersion, saveVersion } from '../../model/versions.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { maxAbsDifference, refcWindows, SMALL_CONFIG, webgpuSkip } from './fixtures.js';

/**
 * Float32 sums in another order (another backend's kernels) differ in the last bits: embeddings
 * of about 0.1 to 1 agree to 1e-5 absolute, reconstruction errors to 1e-5 relative.
 */
const EMBEDDING_TOLERANCE = 1e-5;
const ERROR_TOLERANCE = 1e-5;

const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-backends-'));
const store = new FolderStore(work);
after(() => rmSync(work, { recursive: true, force: true }));

async function embedOn(backend: Backend, fields: Float32Array): Promise<Embedding[]> {
  await selectBackend(backend, 'inference', silentLogger);
  const { model } = await loadVersion(store, 'weights');
  const batch = tf.tensor4d(fields, [2, 32, 64, 1]);
  try {
    return await embedBatch(model, batch);
  } finally {
    batch.dispose();
    model.autoencoder.dispose();
  }
}

describe('the same weights and input give the same embedding on every backend', () => {
  let fields: Float32Array;
  let onCpu: Embedding[];
  before(async () => {
    await selectBackend('cpu', 'inference', silentLogger);
    await saveVersion(store, createAutoencoder({ config: SMALL_CONFIG }), { modelId: 'weights' });
    const windows = await refcWindows(2, 32, 64);
    fields = (await windows.data()) as Float32Array;
    windows.dispose();
    onCpu = await embedOn('cpu', fields);
  });

  const agreesWithCpu = (results: Embedding[]) => {
    results.forEach(({ embedding, reconstructionError }, i) => {
      const expected = onCpu[i]!;
      assert.ok(maxAbsDifference(embedding, expected.embedding) <= EMBEDDING_TOLERANCE, `embedding ${i}: ${maxAbsDifference(embedding, expected.embedding)}`);
      assert.ok(Math.abs(reconstructionError - expected.reconstructionError) <= ERROR_TOLERANCE * expected.reconstructionError, `error ${i}`);
    });
  };

  it('wasm agrees with cpu', async () => agreesWithCpu(await embedOn('wasm', fields)));
  it('webgpu (lavapipe where there is no GPU) agrees with cpu', { skip: webgpuSkip }, async () => agreesWithCpu(await embedOn('webgpu', fields)));
});
