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

describe("a field's embedding does not depend on the batch it is encoded in", () => {
  const backends: Array<[Backend, { skip: string | false }]> = [
    ['cpu', { skip: false }],
    ['wasm', { skip: false }],
    ['webgpu', { skip: webgpuSkip }],
  ];
  for (const [backend, options] of backends) {
    it(`${backend}: alone, in a full batch of 5 and in a partial batch of 3, a field gets the same embedding and error`, options, async () => {
      await selectBackend(backend, 'inference', silentLogger);
      const model = createAutoencoder({ config: SMALL_CONFIG });
      const windows = await refcWindows(5, 32, 64);
      const embed = async (first: number, count: number) => {
        const part = tf.slice(windows, first, count);
        return embedBatch(model, part).finally(() => part.dispose());
      };
      try {
        const alone: Embedding[] = [];
        for (let i = 0; i < 5; i++) alone.push(...(await embed(i, 1)));
        const batches = { full: await embed(0, 5), partial: await embed(1, 3) };
        for (const [name, results] of Object.entries(batches)) {
          const first = name === 'full' ? 0 : 1;
          results.forEach(({ embedding, reconstructionError }, i) => {
            const expected = alone[first + i]!;
            assert.ok(maxAbsDifference(embedding, expected.embedding) <= EMBEDDING_TOLERANCE, `${name} batch, field ${first + i}: embedding off by ${maxAbsDifference(embedding, expected.embedding)}`);
            assert.ok(Math.abs(reconstructionError - expected.reconstructionError) <= ERROR_TOLERANCE * expected.reconstructionError, `${name} batch, field ${first + i}: error ${reconstructionError}, alone ${expected.reconstructionError}`);
          });
        }
        assert.ok(new Set(alone.map(({ reconstructionError }) => reconstructionError)).size > 1, 'the fields differ');
      } finally {
        windows.dispose();
        model.autoencoder.dispose();
      }
    });
  }
});
