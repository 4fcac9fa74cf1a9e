import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDevice, selectBackend, BackendUnavailableError } from '../../model/backends.js';
import { ConfigError, modelConfig, normalizationConfig, SEED_MODEL_CONFIG, trainingConfig } from '../../model/config.js';
import { silentLogger } from '../../stages/stage.js';

function rejectsKey(make: () => unknown, key: string, message: RegExp) {
  assert.throws(make, (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.key, key);
    assert.match(error.message, message);
    return true;
  });
}

describe('model configuration', () => {
  it("defaults to the seed article's hyperparameters", () => {
    assert.deepEqual(modelConfig(), { ...SEED_MODEL_CONFIG });
    assert.deepEqual([SEED_MODEL_CONFIG.nlayers, SEED_MODEL_CONFIG.poolsize, SEED_MODEL_CONFIG.numfilters, SEED_MODEL_CONFIG.numdense], [4, 4, 4, 50]);
    assert.deepEqual(normalizationConfig(), { missingValue: 0, clipMin: 0, clipMax: 60, scale: 60 });
  });

  it('names the bad key of a wrong hyperparameter', () => {
    rejectsKey(() => modelConfig({ nlayers: 0 }), 'nlayers', /^nlayers: must be an integer >= 1, not 0$/);
    rejectsKey(() => modelConfig({ numdense: 2.5 }), 'numdense', /integer/);
    rejectsKey(() => modelConfig({ poolsize: '4' }), 'poolsize', /not "4"/);
    rejectsKey(() => modelConfig({ numlayers: 4 }), 'numlayers', /unknown setting \(known: inputHeight, .*numdense, seed\)/);
    rejectsKey(() => modelConfig({ cropping: [[17, 18]] }), 'cropping', /\[\[top, bottom\], \[left, right\]\]/);
    rejectsKey(() => modelConfig({ nlayers: 5 }), 'cropping', /1024 x 1792 must divide by poolsize\^nlayers = 1024/);
    rejectsKey(() => modelConfig([]), 'model config', /must be an object/);
  });

  it('names the bad key of a wrong normalization or training setting', () => {
    rejectsKey(() => normalizationConfig({ clipMax: -1 }), 'normalization.clipMin', /below clipMax/);
    rejectsKey(() => normalizationConfig({ scale: null }), 'normalization.scale', /finite number/);
    rejectsKey(() => normalizationConfig({ offset: 1 }), 'normalization.offset', /unknown setting/);
    rejectsKey(() => trainingConfig({ learningRate: 0 }), 'training.learningRate', /above 0/);
  });
});

describe('device selection', () => {
  it('refuses an unknown device, naming the key and the known ones', () => {
    rejectsKey(() => parseDevice('gpu'), 'device', /^device: unknown device "gpu" \(known: auto, tensorflow, webgpu, wasm, cpu\)$/);
  });

  it('refuses training on wasm up front, naming the missing kernel', async () => {
    await assert.rejects(selectBackend('wasm', 'training', silentLogger), (error: unknown) => {
      assert.ok(error instanceof BackendUnavailableError);
      assert.match(error.message, /^wasm: cannot train: it has no Conv2DBackpropFilter kernel/);
      return true;
    });
  });

  it('refuses to compile a model for training on wasm, even when wasm was selected for inference', async () => {
    const { createAutoencoder } = await import('../../model/autoencoder.js');
    const { compileForTraining } = await import('../../model/train.js');
    await selectBackend('wasm', 'inference', silentLogger);
    const model = createAutoencoder({ config: { inputHeight: 32, inputWidth: 64, cropping: [[0, 0], [0, 0]], nlayers: 1 } });
    assert.throws(() => compileForTraining(model), /^BackendUnavailableError: wasm: cannot train: it has no Conv2DBackpropFilter kernel/);
    model.autoencoder.dispose();
  });

  it('says which package the tensorflow device needs when it is not installed', async () => {
    await assert.rejects(selectBackend('tensorflow', 'inference', silentLogger), /^BackendUnavailableError: tensorflow: @tensorflow\/tfjs-node-gpu is not installed, @tensorflow\/tfjs-node is not installed/);
  });

  it('auto logs its choice with the adapter and the reason', async () => {
    const logged: object[] = [];
    const log = { ...silentLogger, info: (object: object) => logged.push(object) };
    const choice = await selectBackend('auto', 'inference', log);
    assert.ok(['tensorflow', 'webgpu', 'wasm', 'cpu'].includes(choice.backend));
    assert.match(choice.reason, /^auto for inference: the fastest available/);
    assert.deepEqual(logged, [{ backend: choice.backend, adapter: choice.adapter, purpose: 'inference', reason: choice.reason }]);
  });
});
