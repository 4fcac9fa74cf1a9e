import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { listVersions, loadVersion, previouslyPromoted, promoteVersion, promotedVersion, saveVersion, VersionExistsError } from '../../model/versions.js';
import { promoteChecked } from '../../training/promotion.js';
import { deleteUnneeded, planPrune } from '../../training/pruning.js';
import { silentLogger, type StageLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { SMALL_CONFIG } from './fixtures.js';
import { openModel } from '../../model/open.js';
import { modelConfig } from '../../model/config.js';

const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-models-'));
after(() => rmSync(work, { recursive: true, force: true }));
before(() => selectBackend('cpu', 'inference', silentLogger));

describe('model versions in an object store', () => {
  it('save then load gives bit-identical outputs, and the manifest records how the model was made', async () => {
    const store = new FolderStore(join(work, 'a'));
    const model = createAutoencoder({ config: { ...SMALL_CONFIG, seed: 3 }, normalization: { clipMax: 70, scale: 70 } });
    const details = { trainingData: { from: '2019-01-01T00:00:00Z', to: '2019-12-31T23:00:00Z', fields: 8760 }, metrics: { loss: 0.0023 }, alertThreshold: 0.01, now: new Date('2026-11-24T08:15:00.123Z') };
    const saved = await saveVersion(store, model, details, 'models/');
    assert.match(saved.modelId, /^20261124T081500Z-[0-9a-f]{8}$/);
    const files: string[] = [];
    for await (const { key } of store.list(`models/versions/${saved.modelId}/`)) files.push(key.split('/').pop()!);
    assert.deepEqual(files, ['manifest.json', 'model.json', 'weights.bin']);

    const { model: loaded, manifest } = await loadVersion(store, saved.modelId, 'models/');
    assert.deepEqual(manifest, saved);
    assert.equal(manifest.parameters, model.autoencoder.countParams());
    assert.deepEqual([manifest.createdAt, manifest.alertThreshold, manifest.metrics, manifest.trainingData], ['2026-11-24T08:15:00.123Z', 0.01, { loss: 0.0023 }, details.trainingData]);
    assert.deepEqual(loaded.normalization, { missingValue: 0, clipMin: 0, clipMax: 70, scale: 70 });
    assert.deepEqual(loaded.config, model.config);
    assert.equal(loaded.version, saved.modelId);

    const field = tf.randomUniform([1, 38, 70, 1], 0, 1, 'float32', 11);
    const bits = async (output: tf.Tensor) => Buffer.from((await output.data()).buffer);
    assert.ok((await bits(model.autoencoder.predict(field) as tf.Tensor)).equals(await bits(loaded.autoencoder.predict(field) as tf.Tensor)));
    const cropped = tf.slice(field, [0, 3, 3, 0], [1, 32, 64, 1]);
    assert.ok((await bits(model.encoder.predict(cropped) as tf.Tensor)).equals(await bits(loaded.encoder.predict(cropped) as tf.Tensor)));
  });

  it('versions are immutable: saving under an existing id fails and leaves it as it was', async () => {
    const store = new FolderStore(join(work, 'b'));
    const first = await saveVersion(store, createAutoencoder({ config: SMALL_CONFIG }), { modelId: 'v1', metrics: { loss: 1 } });
    await assert.rejects(saveVersion(store, createAutoencoder({ config: { ...SMALL_CONFIG, seed: 5 } }), { modelId: 'v1' }), VersionExistsError);
    assert.deepEqual((await loadVersion(store, 'v1')).manifest, first);
    await assert.rejects(saveVersion(store, createAutoencoder({ config: SMALL_CONFIG }), { modelId: '../escape' }), /letters, digits/);
  });

  it('"promoted" names the version loaded by default; only complete versions can be promoted', async () => {
    const store = new FolderStore(join(work, 'c'));
    await assert.rejects(loadVersion(store), /no model version is promoted/);
    await saveVersion(store, createAutoencoder({ config: SMALL_CONFIG }), { modelId: 'v1' });
    await saveVersion(store, createAutoencoder({ config: SMALL_CONFIG }), { modelId: 'v2' });
    await store.put('versions/v3/model.json', new Uint8Array([123, 125])); // a save cut short: no manifest
    assert.deepEqual(await listVersions(store), ['v1', 'v2']);
    await assert.rejects(promoteVersion(store, 'v3'), /no such object/);
    await promoteVersion(store, 'v2');
    assert.equal(await promotedVersion(store), 'v2');
    assert.equal((await loadVersion(store)).model.version, 'v2');
  });

  it('refuses a version whose weights.bin is cut short or longer than its model.json says, naming the object and both sizes', async () => {
    const store = new FolderStore(join(work, 'e'));
    await saveVersion(store, createAutoencoder({ config: SMALL_CONFIG }), { modelId: 'v1' });
    const weights = await store.get('versions/v1/weights.bin');
    for (const size of [0, 100, 101, weights.length - 4, weights.length + 4]) {
      await store.put('versions/v1/weights.bin', size <= weights.length ? weights.subarray(0, size) : new Uint8Array(size));
      await assert.rejects(loadVersion(store, 'v1'), new RegExp(`versions/v1/weights.bin: ${size} bytes, its model.json's weights take ${weights.length}`));
    }
  });

  it('refuses a version whose weights.bin has the right size but other bytes than were saved, naming the object and both SHA-256', async () => {
    const store = new FolderStore(join(work, 'e2'));
    await saveVersion(store, createAutoencoder({ config: SMALL_CONFIG }), { modelId: 'v1' });
    const weights = await store.get('versions/v1/weights.bin');
    weights[weights.length >> 1]! ^= 0x01;
    await store.put('versions/v1/weights.bin', weights);
    await assert.rejects(loadVersion(store, 'v1'), /versions\/v1\/weights.bin: SHA-256 [0-9a-f]{64}, its model.json says [0-9a-f]{64}: the object is corrupt or was replaced/);
  });

  it('refuses a version whose model.json names other weight files than its weights.bin, before reading any: 20,000 times the same one, or one outside the version', async () => {
    const store = new FolderStore(join(work, 'e3'));
    await saveVersion(store, createAutoencoder({ config: SMALL_CONFIG }), { modelId: 'v1' });
    const modelJson = JSON.parse(new TextDecoder().decode(await store.get('versions/v1/model.json'))) as { weightsManifest: Array<{ paths: string[] }> };
    for (const paths of [Array<string>(20_000).fill('weights.bin'), ['../v0/weights.bin']]) {
      modelJson.weightsManifest[0]!.paths = paths;
      await store.put('versions/v1/model.json', new TextEncoder().encode(JSON.stringify(modelJson)));
      await assert.rejects(loadVersion(store, 'v1'), new RegExp(`versions/v1/model\\.json: its weightsManifest names ${paths.length} weight files? \\(${paths[0]!.replace(/\./g, '\\.')}.*\\); a model here keeps its weights in weights\\.bin alone`));
    }
  });

  it('names the object and what is wrong when promoted.json, manifest.json or model.json cannot be read', async () => {
    const store = new FolderStore(join(work, 'f'));
    await saveVersion(store, createAutoencoder({ config: SMALL_CONFIG }), { modelId: 'v1' });
    await promoteVersion(store, 'v1');
    const cut = async (key: string, pattern: RegExp, text?: string) => {
      const whole = await store.get(key);
      await store.put(key, text === undefined ? whole.subarray(0, 20) : new TextEncoder().encode(text));
      await assert.rejects(loadVersion(store), pattern);
      await store.put(key, whole);
    };
    await cut('promoted.json', /promoted\.json: not JSON/);
    await cut('promoted.json', /promoted\.json: modelId is not a version id/, '{}');
    await cut('versions/v1/manifest.json', /versions\/v1\/manifest\.json: not JSON/);
    await cut('versions/v1/manifest.json', /versions\/v1\/manifest\.json: hyperparameters is not an object/, '{"format": "hrrr-embed-model/1", "normalization": {}}');
    await cut('versions/v1/model.json', /versions\/v1\/model\.json: not JSON/);
    assert.equal((await loadVersion(store)).model.version, 'v1');
  });

  it('a consumer reads the promoted version and those before it from a promoted.json whose deletion marks it cannot read; a prune, and a promotion unless forced, refuse it, naming the field', async () => {
    const store = new FolderStore(join(work, 'f2'));
    for (const modelId of ['v1', 'v2']) {
      await saveVersion(store, createAutoencoder({ config: SMALL_CONFIG }), { modelId });
      await promoteVersion(store, modelId);
    }
    const malformed = [
      ['beingDeleted is not a list of marks', '"beingDeleted": [{"modelId": "v0", "at": "yesterday", "by": "host pid 1"}]'],
      ['beingDeleted is not a list of marks', '"beingDeleted": ["v0"]'],
      ['deleting is not a version id', '"deleting": 3'],
    ];
    for (const [problem, field] of malformed) {
      await store.put('promoted.json', new TextEncoder().encode(`{"modelId": "v2", "previous": ["v1"], ${field}}`));
      assert.equal(await promotedVersion(store), 'v2', field);
      assert.deepEqual(await previouslyPromoted(store), ['v1'], field);
      assert.equal((await loadVersion(store)).model.version, 'v2', field);
      assert.equal((await openModel(store, undefined, silentLogger, { fallBack: true })).manifest?.modelId, 'v2', field);
      await assert.rejects(planPrune(store, { keepDays: 0, keep: [] }).then((plan) => deleteUnneeded(store, plan, () => {})), new RegExp(`promoted\\.json: ${problem}`), field);
      await assert.rejects(promoteChecked(store, 'v1', { force: false }), new RegExp(`promoted\\.json: ${problem}.*would forget the versions promoted before`), field);
    }
  });

  it('a consumer of a model store where nothing is promoted yet serves the seed model until a version is, and says so', async () => {
    const folder = join(work, 'd');
    const warnings: string[] = [];
    const log: StageLogger = { ...silentLogger, warn: (_fields: object, message?: string) => void warnings.push(message ?? '') };
    const opened = await openModel(new FolderStore(folder), undefined, log);
    assert.equal(opened.model.version, 'untrained');
    assert.equal(opened.id, new FolderStore(folder).url);
    assert.equal(opened.manifest, undefined);
    assert.deepEqual(opened.model.config, modelConfig());
    assert.match(warnings.join('\n'), /no model version is promoted yet/);
  });

  it('a consumer whose promoted version cannot be loaded falls back to the version promoted before it, never to a newer candidate that was saved and not promoted', async () => {
    const store = new FolderStore(join(work, 'history'));
    const save = (modelId: string, day: number) => saveVersion(store, createAutoencoder({ config: { ...SMALL_CONFIG, seed: day } }), { modelId, now: new Date(Date.UTC(2026, 0, day)) });
    await save('v1', 1);
    await promoteVersion(store, 'v1');
    await save('v2', 2);
    await promoteVersion(store, 'v2');
    await save('rejected', 3); // judged worse than v2: saved, not promoted
    await save('v4', 4);
    await promoteVersion(store, 'v1'); // a rollback, then forward again
    await promoteVersion(store, 'v4');
    await store.put('versions/v4/weights.bin', new Uint8Array(12));
    const opened = await openModel(store, undefined, silentLogger, { fallBack: true });
    assert.equal(opened.model.version, 'v1');
    assert.equal(opened.notPromoted?.promoted, 'v4');
    await store.put('versions/v1/weights.bin', new Uint8Array(12));
    assert.equal((await openModel(store, undefined, silentLogger, { fallBack: true })).model.version, 'v2');
  });

  it('a consumer whose promoted version cannot be loaded, the first ever promoted, serves the seed model as the consumers before it did', async () => {
    const store = new FolderStore(join(work, 'first'));
    await saveVersion(store, createAutoencoder({ config: { ...SMALL_CONFIG, seed: 1 } }), { modelId: 'candidate', now: new Date(Date.UTC(2026, 0, 1)) });
    await saveVersion(store, createAutoencoder({ config: { ...SMALL_CONFIG, seed: 2 } }), { modelId: 'v1', now: new Date(Date.UTC(2026, 0, 2)) });
    await promoteVersion(store, 'v1');
    await store.put('versions/v1/weights.bin', new Uint8Array(12));
    const warnings: string[] = [];
    const opened = await openModel(store, undefined, { ...silentLogger, warn: (_fields: object, message?: string) => void warnings.push(message ?? '') }, { fallBack: true });
    assert.equal(opened.model.version, 'untrained');
    assert.deepEqual(opened.model.config, modelConfig());
    assert.equal(opened.notPromoted?.promoted, 'v1');
    assert.match(warnings.join('\n'), /promoted model version v1 cannot be loaded \(.*weights\.bin.*\), and none was promoted before it/);
  });
});
