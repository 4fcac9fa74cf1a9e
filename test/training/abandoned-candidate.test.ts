/**
 * A trainer run again after it stopped while saving its candidate removes that half-saved
 * candidate, unless consumers need it: an operator may promote it (by hand) between the
 * trainer's read of promoted.json and its deletion, or may have promoted it before.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAutoencoder, disposeAutoencoder, type Autoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { listVersions, promoteVersion, readPromoted, saveVersion } from '../../model/versions.js';
import { silentLogger } from '../../stages/stage.js';
import type { ObjectStore } from '../../store/object-store.js';
import { readPointer } from '../../training/checkpoints.js';
import { retrain } from '../../training/retrain.js';
import { SMALL_CONFIG } from '../model/fixtures.js';
import { racingStore } from '../support/racing-store.js';
import { storeKinds } from '../support/stores.js';
import { smallFresh, smallRun } from './fixtures.js';
import { smallShards } from './memory-shards.js';

const stores = await storeKinds();
let small: Autoencoder;
before(async () => {
  await selectBackend('cpu', 'training', silentLogger);
  small = createAutoencoder({ config: SMALL_CONFIG });
});
after(async () => {
  disposeAutoencoder(small);
  await stores.stop();
});

const shards = smallShards(4, 4);
const run = (models: ObjectStore) => smallRun(models, shards, { fresh: smallFresh(), runId: 'stopped', steps: 4, stepsPerCheckpoint: 4, force: true });

/** Trains run "stopped" until it has saved its candidate whole, and stops it before it records the judgement: the candidate's id. */
async function stoppedWhileSaving(models: ObjectStore): Promise<string> {
  const stopping: ObjectStore = {
    url: models.url,
    list: (prefix, options) => models.list(prefix, options),
    async put(key, body, options) {
      if (key === 'training/stopped/latest.json' && new TextDecoder().decode(body as Uint8Array).includes('"judged"')) throw new Error('stopped');
      return models.put(key, body, options);
    },
    get: (key, options) => models.get(key, options),
    head: (key, options) => models.head(key, options),
    delete: (key, options) => models.delete(key, options),
  };
  await assert.rejects(retrain(run(stopping)), /stopped/);
  const candidate = (await readPointer(models, 'stopped'))?.saving;
  assert.ok(candidate !== undefined && (await listVersions(models)).includes(candidate), 'the candidate saved whole');
  return candidate;
}

/** Every version promoted.json names (promoted, promoted before, being deleted) that is not a complete version. */
async function namedButGone(models: ObjectStore): Promise<string[]> {
  const promoted = await readPromoted(models);
  const versions = await listVersions(models);
  return [promoted?.modelId, ...(promoted?.previous ?? [])].filter((id): id is string => id !== undefined && !versions.includes(id));
}

for (const kind of stores.kinds) {
  describe(`a run stopped while saving its candidate, run again: ${kind.name}`, () => {
    it('keeps the candidate an operator promotes between the trainer\'s read of promoted.json and its deletion: promoted.json never names a deleted version', async () => {
      const models = await kind.create();
      await saveVersion(models, small, { modelId: 'base' });
      await promoteVersion(models, 'base');
      const candidate = await stoppedWhileSaving(models);
      const { store, arm, raced } = racingStore(models);
      arm(() => promoteVersion(models, candidate));
      await retrain(run(store));
      assert.ok(raced(), 'the competing promotion never ran');
      assert.ok((await listVersions(models)).includes(candidate), 'the candidate promoted by hand is kept');
      assert.deepEqual(await namedButGone(models), []);
      assert.equal((await readPromoted(models))?.beingDeleted, undefined);
    });

    it('keeps the candidate an operator promoted and then replaced: it is a consumer\'s fallback and a rollback\'s target', async () => {
      const models = await kind.create();
      for (const id of ['base', 'later']) await saveVersion(models, small, { modelId: id });
      await promoteVersion(models, 'base');
      const candidate = await stoppedWhileSaving(models);
      await promoteVersion(models, candidate);
      await promoteVersion(models, 'later');
      await retrain(run(models));
      assert.ok((await listVersions(models)).includes(candidate));
      assert.deepEqual(await namedButGone(models), []);
    });

    it('keeps the candidate when nothing is promoted (no promoted.json to mark its deletion in) and an operator promotes it as the first version', async () => {
      const models = await kind.create();
      const candidate = await stoppedWhileSaving(models);
      const { store, arm, raced } = racingStore(models);
      arm(() => promoteVersion(models, candidate));
      await retrain(run(store));
      assert.ok(raced(), 'the competing promotion never ran');
      assert.ok((await listVersions(models)).includes(candidate));
      assert.deepEqual(await namedButGone(models), []);
    });

    it('removes the candidate nothing needs, and leaves promoted.json marking no deletion', async () => {
      const models = await kind.create();
      await saveVersion(models, small, { modelId: 'base' });
      await promoteVersion(models, 'base');
      const candidate = await stoppedWhileSaving(models);
      const result = await retrain(run(models));
      assert.deepEqual((await listVersions(models)).sort(), ['base', result.modelId].sort(), 'the half-saved candidate removed, the one saved again kept');
      assert.notEqual(result.modelId, candidate);
      assert.equal((await readPromoted(models))?.beingDeleted, undefined);
    });
  });
}
