import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { createAutoencoder, disposeAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { ConfigError, croppedShape, modelConfig, MODEL_PRESETS, REDUCED_MODEL_CONFIG, SEED_NORMALIZATION } from '../../model/config.js';
import { loadVersion, saveVersion } from '../../model/versions.js';
import { attributed, silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { createNormalizeStage, normalizeAndCrop } from '../../stages/transforms/normalize.js';
import type { NormalizedField } from '../../stages/types.js';
import { refcField } from './fixtures.js';

describe('the reduced configuration (fields downsampled 4 times)', () => {
  it('is valid, sees 256 x 448 fields, and differs from the seed only by downsample 4 and one block fewer', () => {
    assert.deepEqual(modelConfig(REDUCED_MODEL_CONFIG), { ...REDUCED_MODEL_CONFIG });
    assert.deepEqual(croppedShape(REDUCED_MODEL_CONFIG), [256, 448]);
    assert.deepEqual(croppedShape(MODEL_PRESETS.seed), [1024, 1792]);
    const { downsample, nlayers, ...rest } = REDUCED_MODEL_CONFIG;
    const { downsample: seedDownsample, nlayers: seedLayers, ...seedRest } = MODEL_PRESETS.seed;
    assert.deepEqual([downsample, nlayers, seedDownsample, seedLayers], [4, 3, 1, 4]);
    assert.deepEqual(rest, seedRest);
  });

  it("refuses the seed's four blocks on a downsampled field, and a downsample the crop does not divide by, naming the key", () => {
    const refuses = (overrides: object, key: string, message: RegExp) =>
      assert.throws(() => modelConfig(overrides), (error: unknown) => error instanceof ConfigError && error.key === key && message.test(error.message));
    refuses({ downsample: 4 }, 'cropping', /cropped and downsampled 256 x 448 must divide by poolsize\^nlayers = 256/);
    refuses({ downsample: 3, nlayers: 1 }, 'downsample', /1024 x 1792 must divide by 3/);
    refuses({ downsample: 0 }, 'downsample', /integer >= 1/);
  });

  it('builds a model from the full 1059 x 1799 field to its full-size reconstruction, whose encoder and decoder work at 256 x 448', async () => {
    await selectBackend('cpu', 'inference', silentLogger);
    const model = createAutoencoder({ config: REDUCED_MODEL_CONFIG });
    try {
      assert.deepEqual(model.autoencoder.inputs[0]!.shape, [null, 1059, 1799, 1]);
      assert.deepEqual(model.autoencoder.outputs[0]!.shape, [null, 1059, 1799, 1]);
      assert.deepEqual(model.encoder.inputs[0]!.shape, [null, 256, 448, 1]);
      assert.deepEqual(model.encoder.outputs[0]!.shape, [null, 50]);
      assert.deepEqual(model.decoder.outputs[0]!.shape, [null, 1059, 1799, 1]);
      assert.deepEqual(model.croppedAutoencoder.outputs[0]!.shape, [null, 256, 448, 1]);
      assert.deepEqual(model.autoencoder.getLayer('encoder_flatten').outputShape, [null, 4 * 7 * 64]);
      const code = tf.zeros([1, 50]);
      const picture = model.decoder.predict(code) as tf.Tensor;
      assert.deepEqual(picture.shape, [1, 1059, 1799, 1]);
      tf.dispose([code, picture]);
    } finally {
      disposeAutoencoder(model);
    }
  });

  it('is saved and loaded as a version like any other: same configuration, same embeddings', async () => {
    await selectBackend('cpu', 'inference', silentLogger);
    const folder = await mkdtemp(join(tmpdir(), 'hrrr-embed-reduced-'));
    const model = createAutoencoder({ config: REDUCED_MODEL_CONFIG });
    const field = tf.randomUniform([1, 256, 448, 1], 0, 1, 'float32', 3);
    try {
      const store = new FolderStore(folder);
      await saveVersion(store, model, { modelId: 'reduced-1' });
      const { model: loaded, manifest } = await loadVersion(store, 'reduced-1');
      assert.deepEqual(manifest.hyperparameters, { ...REDUCED_MODEL_CONFIG });
      assert.deepEqual(loaded.config, { ...REDUCED_MODEL_CONFIG });
      const [a, b] = [model.encoder.predict(field) as tf.Tensor, loaded.encoder.predict(field) as tf.Tensor];
      assert.deepEqual(Array.from(await b.data()), Array.from(await a.data()));
      tf.dispose([a, b]);
      disposeAutoencoder(loaded);
    } finally {
      field.dispose();
      disposeAutoencoder(model);
      await rm(folder, { recursive: true, force: true });
    }
  });
});

describe('normalization with downsampling', () => {
  // A 5 x 4 grid stored south row first; the crop takes off column 0, leaving 4 x 4.
  const values = Float32Array.from([
    /* row 0, south */ 99, 0, 6, 12, 18,
    /* row 1 */ 99, 6, NaN, 30, 70,
    /* row 2 */ 99, 60, 60, -10, 0,
    /* row 3, north */ 99, 60, 30, 0, 6,
  ]);

  it('averages each 2 x 2 block of the normalized, cropped field, as by hand', () => {
    const out = normalizeAndCrop(values, { nx: 5, ny: 4, southFirst: true }, SEED_NORMALIZATION, [[0, 0], [1, 0]], 2);
    // South-west block: 0, 6, 6, NaN -> 0, 0.1, 0.1, 0 -> mean 0.05; south-east: 12, 18, 30, 70 (clipped to 60) -> (0.2 + 0.3 + 0.5 + 1) / 4 = 0.5;
    // north-west: 60, 60, 60, 30 -> (1 + 1 + 1 + 0.5) / 4 = 0.875; north-east: -10 (clipped to 0), 0, 0, 6 -> 0.025.
    const expected = [0.05, 0.5, 0.875, 0.025];
    Array.from(out).forEach((value, i) => assert.ok(Math.abs(value - expected[i]!) < 1e-6, `block ${i}: ${value}, expected ${expected[i]}`));
    assert.throws(() => normalizeAndCrop(values, { nx: 5, ny: 4, southFirst: true }, SEED_NORMALIZATION, [[0, 1], [1, 0]], 2), /3 x 4 does not divide by downsample 2/);
  });

  it('turns the real HRRR field into 256 x 448, each point the mean of its 4 x 4 block of the 1024 x 1792 crop', async () => {
    const decoded = await refcField();
    const fields: NormalizedField[] = [];
    for await (const field of attributed(createNormalizeStage({ model: REDUCED_MODEL_CONFIG, normalization: SEED_NORMALIZATION }), decoded, { log: silentLogger, signal: new AbortController().signal })) fields.push(field);
    const [field] = fields;
    assert.deepEqual([field!.height, field!.width, field!.values.length], [256, 448, 256 * 448]);
    const full = normalizeAndCrop(decoded.values, { nx: 1799, ny: 1059, southFirst: true }, SEED_NORMALIZATION, REDUCED_MODEL_CONFIG.cropping);
    for (const [row, column] of [[0, 0], [255, 447], [128, 225]] as const) {
      let sum = 0;
      for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) sum += full[(row * 4 + i) * 1792 + column * 4 + j]!;
      assert.ok(Math.abs(field!.values[row * 448 + column]! - sum / 16) < 1e-6, `row ${row}, column ${column}`);
    }
  });
});
