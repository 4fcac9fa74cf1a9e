import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { compileForTraining, trainStep } from '../../model/train.js';
import { silentLogger } from '../../stages/stage.js';
import { refcWindows, webgpuSkip } from './fixtures.js';

describe('useful overfitting (the article\'s check that the architecture can learn)', () => {
  // webgpu on lavapipe takes about 0.1 s a step here; plain JavaScript about 20 times that.
  it('a small configuration learns 4 real REFC fields to a low loss', { skip: webgpuSkip }, async () => {
    await selectBackend('webgpu', 'training', silentLogger);
    const model = createAutoencoder({ config: { inputHeight: 32, inputWidth: 64, cropping: [[0, 0], [0, 0]], nlayers: 2, poolsize: 4, numfilters: 2, numdense: 16 } });
    compileForTraining(model, { learningRate: 0.003 });
    const fields = await refcWindows(4, 32, 64);
    const losses: number[] = [];
    for (let step = 0; step < 150; step++) losses.push(await trainStep(model, fields));
    const [first, last] = [losses[0]!, losses.at(-1)!];
    assert.ok(last < 0.01, `final loss ${last}`);
    assert.ok(last < first / 10, `loss went from ${first} to ${last}`);
    fields.dispose();
    model.autoencoder.dispose();
  });
});
