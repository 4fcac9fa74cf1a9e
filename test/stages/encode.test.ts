import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { compileForTraining } from '../../model/train.js';
import { silentLogger, type StageContext } from '../../stages/stage.js';
import { createEncodeStage } from '../../stages/transforms/encode.js';
import type { EmbeddedField } from '../../stages/types.js';
import { refcField, refcWindows, SMALL_CONFIG } from '../model/fixtures.js';

const context: StageContext = { log: silentLogger, signal: new AbortController().signal };

describe('the encode stage', () => {
  before(() => selectBackend('cpu', 'inference', silentLogger));

  it("gives the encoder's embedding and, as reconstruction error, the training loss of the field", async () => {
    const model = createAutoencoder({ config: SMALL_CONFIG });
    const { source, field } = await refcField();
    const window = await refcWindows(1, 32, 64);
    const values = (await window.data()) as Float32Array;
    const out: EmbeddedField[] = [];
    for await (const embedded of createEncodeStage({ model, backend: 'cpu' }).process({ source, field, height: 32, width: 64, values }, context)) out.push(embedded);

    assert.equal(out.length, 1);
    const [embedded] = out as [EmbeddedField];
    assert.deepEqual(embedded.model, { version: 'untrained', backend: 'cpu' });
    assert.equal(embedded.field, field);
    assert.deepEqual(Array.from(embedded.embedding), Array.from(await (model.encoder.predict(window) as tf.Tensor).data()));
    compileForTraining(model);
    const loss = (await (model.croppedAutoencoder.evaluate(window, window) as tf.Scalar).data())[0]!;
    assert.ok(Math.abs(embedded.reconstructionError - loss) <= 1e-6 * loss, `${embedded.reconstructionError} against tfjs-layers' logcosh ${loss}`);
    assert.ok(embedded.reconstructionError > 0);
    window.dispose();
  });

  it('rejects a field of another size than the model takes', async () => {
    const model = createAutoencoder({ config: SMALL_CONFIG });
    const { source, field } = await refcField();
    const wrong = { source, field, height: 16, width: 64, values: new Float32Array(16 * 64) };
    await assert.rejects(async () => {
      for await (const _ of createEncodeStage({ model, backend: 'cpu' }).process(wrong, context));
    }, /the model takes cropped fields of 32 x 64 x 1, not 16 x 64 x 1/);
  });
});
