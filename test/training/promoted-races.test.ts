/**
 * The writers of promoted.json racing each other: another write lands between one writer's read of
 * promoted.json and its write, each race made to happen at that moment by a store that runs the
 * competing write right after a chosen read of promoted.json, before handing back what it read.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAutoencoder, disposeAutoencoder, type Autoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { changePromoted, listVersions, markedAsBeingDeleted, promotedVersion, promoteVersion, readPromoted, saveVersion, type Promoted } from '../../model/versions.js';
import { silentLogger } from '../../stages/stage.js';
import type { ObjectStore } from '../../store/object-store.js';
import { promoteChecked, PromotionRefused, rollBack } from '../../training/promotion.js';
import { deleteAbandonedCandidate, deleteUnneeded, planPrune } from '../../training/pruning.js';
import { retrain } from '../../training/retrain.js';
import { SMALL_CONFIG } from '../model/fixtures.js';
import { racingStore } from '../support/racing-store.js';
import { storeKinds } from '../support/stores.js';
import { smallFresh, smallRun } from './fixtures.js';
import { smallShards } from './memory-shards.js';

const stores = await storeKinds();
const markedVersions = async (models: ObjectStore) => (await readPromoted(models))?.beingDeleted?.map(({ modelId }) => modelId);
let small: Autoencoder;
before(async () => {
  await selectBackend('cpu', 'training', silentLogger);
  small = createAutoencoder({ config: SMALL_CONFIG });
});
after(async () => {
  disposeAutoencoder(small);
  await stores.stop();
});

const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);

for (const kind of stores.kinds) {
  describe(`promoted.json written by two at once: ${kind.name}`, () => {
    it("a trainer concluding its run does not overrule a version promoted by hand between its read of promoted.json and its write: saved, not promoted", async () => {
      const models = await kind.create();
      await saveVersion(models, small, { modelId: 'by-hand' });
      const { store, arm, raced } = racingStore(models);
      let confirmations = 0;
      // The third confirmation comes right before promoting: the operator's promotion lands in the trainer's read of promoted.json.
      const confirmLease = async () => {
        if (++confirmations === 3) arm(() => promoteVersion(models, 'by-hand'));
      };
      const warnings: string[] = [];
      const log = { ...silentLogger, warn: (_: object, message?: string) => void warnings.push(message ?? '') };
      const result = await retrain(smallRun(store, smallShards(4, 4), { fresh: smallFresh(), runId: 'racing', steps: 4, stepsPerCheckpoint: 4, confirmLease, log }));
      assert.ok(raced(), 'the competing promotion never ran');
      assert.ok(warnings.some((message) => /promoted\.json was written by another between this run's read of it and its write: decided again/.test(message)), warnings.join('\n'));
      assert.equal(result.promoted, false, result.reason);
      assert.match(result.reason, /but by-hand was promoted meanwhile: saved, not promoted/);
      assert.equal(await promotedVersion(models), 'by-hand');
      assert.ok((await listVersions(models)).includes(result.modelId));
    });

    it('model promote refuses, naming what changed, when a trainer promotes another version between its read of promoted.json and its write; the trainer\'s stays promoted', async () => {
      const models = await kind.create();
      for (const id of ['first', 'by-hand', 'trained']) await saveVersion(models, small, { modelId: id });
      await promoteVersion(models, 'first');
      const { store, arm, raced } = racingStore(models);
      let reads = 0;
      // Its first read decides what the checks are made against; the second is the one its write is conditional on.
      const counting: ObjectStore = { ...store, get: (key, options) => (key === 'promoted.json' && ++reads === 2 && arm(() => promoteVersion(models, 'trained')), store.get(key, options)) };
      await assert.rejects(promoteChecked(counting, 'by-hand', { force: false }), (error: unknown) => error instanceof PromotionRefused && /promoted\.json changed while by-hand was checked: trained is promoted now, not first; nothing promoted/.test(error.message));
      assert.ok(raced(), 'the competing promotion never ran');
      assert.deepEqual(await readPromoted(models).then((promoted) => [promoted?.modelId, promoted?.previous]), ['trained', ['first']]);
    });

    it('model rollback refuses, naming what changed, when a trainer promotes another version between its read of promoted.json and its write; the trainer\'s stays promoted, the versions before it remembered', async () => {
      const models = await kind.create();
      for (const id of ['first', 'second', 'trained']) await saveVersion(models, small, { modelId: id });
      await promoteVersion(models, 'first');
      await promoteVersion(models, 'second');
      const { store, arm, raced } = racingStore(models);
      let reads = 0;
      // It reads the promoted version (and those before it), then again for the write, conditional on that second read.
      const counting: ObjectStore = { ...store, get: (key, options) => (key === 'promoted.json' && ++reads === 2 && arm(() => promoteVersion(models, 'trained')), store.get(key, options)) };
      await assert.rejects(rollBack(counting, { force: false }), (error: unknown) => error instanceof PromotionRefused && /changed while rolling back from second: trained is promoted now; nothing rolled back/.test(error.message));
      assert.ok(raced(), 'the competing promotion never ran');
      assert.deepEqual(await readPromoted(models).then((promoted) => [promoted?.modelId, promoted?.previous]), ['trained', ['second', 'first']]);
    });

    it('model prune keeps a version promoted between its read of promoted.json and its deletion', async () => {
      const models = await kind.create();
      for (const [id, days] of [['old', 60], ['current', 59]] as const) await saveVersion(models, small, { modelId: id, now: daysAgo(days) });
      await promoteVersion(models, 'current');
      const planned = await planPrune(models, { keepDays: 30, keep: [] });
      assert.deepEqual(planned.filter(({ keptBecause }) => keptBecause.length === 0).map(({ modelId }) => modelId), ['old']);
      const { store, arm, raced } = racingStore(models);
      arm(() => promoteVersion(models, 'old'));
      const fates: Array<[string, string[]]> = [];
      await deleteUnneeded(store, planned, ({ modelId, keptBecause }) => fates.push([modelId, keptBecause]));
      assert.ok(raced(), 'the competing promotion never ran');
      assert.deepEqual(fates, [['old', ['promoted (since this prune began)']]]);
      assert.deepEqual(await listVersions(models), ['current', 'old']);
      assert.deepEqual(await readPromoted(models).then((promoted) => [promoted?.modelId, promoted?.beingDeleted]), ['old', undefined]);
    });

    it('a promotion of a version that model prune deletes between the promotion\'s read of promoted.json and its write is refused: promoted.json never names a deleted version', async () => {
      const models = await kind.create();
      for (const [id, days] of [['old', 60], ['current', 59]] as const) await saveVersion(models, small, { modelId: id, now: daysAgo(days) });
      await promoteVersion(models, 'current');
      const { store, arm, raced } = racingStore(models);
      arm(async () => deleteUnneeded(models, await planPrune(models, { keepDays: 30, keep: [] }), () => {}));
      await assert.rejects(promoteVersion(store, 'old'), /versions\/old\/manifest\.json/);
      assert.ok(raced(), 'the competing prune never ran');
      assert.deepEqual(await listVersions(models), ['current']);
      assert.equal(await promotedVersion(models), 'current');
    });

    it('model prune marking a version between a resumed run\'s marking of its abandoned candidate and its deletion keeps that mark: model promote of the candidate meanwhile is refused, and promoted.json never names a deleted version', async () => {
      const models = await kind.create();
      for (const [id, days] of [['old', 60], ['current', 59], ['candidate', 0]] as const) await saveVersion(models, small, { modelId: id, now: daysAgo(days) });
      await promoteVersion(models, 'current');
      const planned = await planPrune(models, { keepDays: 30, keep: [] });
      // The run's cleanup is held once it has marked its candidate, before it deletes the candidate's manifest.
      let marked!: () => void;
      let goOn!: () => void;
      const [candidateMarked, mayDelete] = [new Promise<void>((resolve) => (marked = resolve)), new Promise<void>((resolve) => (goOn = resolve))];
      const held: ObjectStore = { ...models, url: models.url, list: models.list.bind(models), head: models.head.bind(models), get: models.get.bind(models), put: models.put.bind(models), delete: async (key, options) => (key === 'versions/candidate/manifest.json' && (marked(), await mayDelete), models.delete(key, options)) };
      let cleanup: Promise<string | undefined> | undefined;
      const { store, arm, raced } = racingStore(models);
      arm(async () => ((cleanup = deleteAbandonedCandidate(held, 'candidate')), await candidateMarked));
      const fates: Array<[string, string[]]> = [];
      await deleteUnneeded(store, planned, ({ modelId, keptBecause }) => fates.push([modelId, keptBecause]));
      assert.ok(raced(), 'the competing cleanup never ran');
      assert.deepEqual(fates, [['old', []]]);
      await assert.rejects(promoteChecked(models, 'candidate', { force: false }), (error: unknown) => error instanceof PromotionRefused && /model version candidate is being deleted/.test(error.message));
      goOn();
      assert.equal(await cleanup, undefined, 'the run kept its candidate');
      assert.deepEqual(await listVersions(models), ['current']);
      assert.equal(await promotedVersion(models), 'current');
    });

    it('versions promoted.json names as being deleted by deletions stopped part way are not promoted, until the next prune finishes them; the one version an earlier build named as "deleting" too', async () => {
      const models = await kind.create();
      for (const [id, days] of [['current', 59], ['stopped', 60], ['half-deleted', 60]] as const) await saveVersion(models, small, { modelId: id, now: daysAgo(days) });
      await promoteVersion(models, 'current');
      // An earlier build's prune stopped right after its mark; a later one stopped after a manifest's deletion.
      const promoted = JSON.parse(new TextDecoder().decode(await models.get('promoted.json'))) as object;
      await models.put('promoted.json', new TextEncoder().encode(JSON.stringify({ ...promoted, deleting: 'stopped' })));
      await changePromoted(models, (now) => markedAsBeingDeleted(now as Promoted, 'half-deleted'));
      await models.delete('versions/half-deleted/manifest.json');
      assert.deepEqual(await markedVersions(models), ['stopped', 'half-deleted']);
      await assert.rejects(promoteChecked(models, 'stopped', { force: false }), (error: unknown) => error instanceof PromotionRefused && /model version stopped is being deleted .*model prune --delete.* finishes it/.test(error.message));
      await deleteUnneeded(models, await planPrune(models, { keepDays: 30, keep: [] }), () => {});
      assert.deepEqual(await listVersions(models), ['current']);
      assert.equal((await readPromoted(models))?.beingDeleted, undefined);
      assert.doesNotMatch(new TextDecoder().decode(await models.get('promoted.json')), /deleting/);
    });
  });

  describe(`a deleter stopped between its mark and its deletion: ${kind.name}`, () => {
    // What a deleter stopped after its mark leaves (here its delete refused): the version whole, and marked.
    async function deleterRefusedItsDelete(models: ObjectStore, modelId: string): Promise<void> {
      const refusing: ObjectStore = { ...models, url: models.url, list: models.list.bind(models), head: models.head.bind(models), get: models.get.bind(models), put: models.put.bind(models), delete: async () => Promise.reject(new Error('AccessDenied')) };
      await assert.rejects(deleteAbandonedCandidate(refusing, modelId), /AccessDenied/);
      assert.deepEqual(await listVersions(models).then((ids) => ids.includes(modelId)), true);
      assert.ok((await markedVersions(models))?.includes(modelId));
    }

    // promoted.json marking `modelId` as being deleted since `hoursAgo`, as a deleter then would have written it.
    async function markedHoursAgo(models: ObjectStore, modelId: string, hoursAgo: number): Promise<void> {
      const promoted = JSON.parse(new TextDecoder().decode(await models.get('promoted.json'))) as { beingDeleted?: Array<{ modelId: string }> };
      const at = new Date(Date.now() - hoursAgo * 3_600_000).toISOString();
      const beingDeleted = [...(promoted.beingDeleted ?? []).filter((mark) => mark.modelId !== modelId), { modelId, at, by: 'trainer-host pid 4242' }];
      await models.put('promoted.json', new TextEncoder().encode(JSON.stringify({ ...promoted, beingDeleted })));
    }

    it('a mark made less than an hour ago refuses model promote and stays through a prune that keeps the version: a deleter may still be at work', async () => {
      const models = await kind.create();
      for (const [id, days] of [['current', 59], ['kept', 60]] as const) await saveVersion(models, small, { modelId: id, now: daysAgo(days) });
      await promoteVersion(models, 'current');
      await deleterRefusedItsDelete(models, 'kept');
      await markedHoursAgo(models, 'kept', 0.5);
      await deleteUnneeded(models, await planPrune(models, { keepDays: 30, keep: ['kept'] }), () => {});
      await assert.rejects(promoteChecked(models, 'kept', { force: false }), (error: unknown) => error instanceof PromotionRefused && /model version kept is being deleted .*marked by trainer-host pid 4242 at /.test(error.message));
      assert.deepEqual(await markedVersions(models), ['kept']);
      assert.deepEqual(await listVersions(models), ['current', 'kept']);
    });

    it('a mark older than an hour is abandoned: a prune that keeps the version (--keep) takes the mark out, and model promote then takes the version', async () => {
      const models = await kind.create();
      for (const [id, days] of [['current', 59], ['kept', 60]] as const) await saveVersion(models, small, { modelId: id, now: daysAgo(days) });
      await promoteVersion(models, 'current');
      await deleterRefusedItsDelete(models, 'kept');
      await markedHoursAgo(models, 'kept', 2);
      await deleteUnneeded(models, await planPrune(models, { keepDays: 30, keep: ['kept'] }), () => {});
      assert.deepEqual(await listVersions(models), ['current', 'kept']);
      assert.equal((await readPromoted(models))?.beingDeleted, undefined);
      await promoteChecked(models, 'kept', { force: false });
      assert.equal(await promotedVersion(models), 'kept');
    });

    it('model promote and model rollback take a version whose only mark is abandoned, and take the mark out in the same write; other marks stay', async () => {
      const models = await kind.create();
      for (const id of ['first', 'second', 'other']) await saveVersion(models, small, { modelId: id });
      await promoteVersion(models, 'first');
      await promoteVersion(models, 'second');
      await changePromoted(models, (now) => markedAsBeingDeleted(now as Promoted, 'other'));
      await markedHoursAgo(models, 'first', 2);
      const rolledBack = await rollBack(models, { force: false });
      assert.deepEqual([rolledBack.manifest.modelId, rolledBack.skipped], ['first', []]);
      assert.deepEqual(await markedVersions(models), ['other']);
      await markedHoursAgo(models, 'second', 2);
      await promoteChecked(models, 'second', { force: false });
      assert.deepEqual([await promotedVersion(models), await markedVersions(models)], ['second', ['other']]);
      await assert.rejects(promoteChecked(models, 'other', { force: false }), (error: unknown) => error instanceof PromotionRefused && /model version other is being deleted/.test(error.message));
    });

    it('a mark a released build wrote without a time ("deleting") is dated by the next prune, and refuses model promote until it is an hour old', async () => {
      const models = await kind.create();
      for (const [id, days] of [['current', 59], ['kept', 60]] as const) await saveVersion(models, small, { modelId: id, now: daysAgo(days) });
      await promoteVersion(models, 'current');
      const promoted = JSON.parse(new TextDecoder().decode(await models.get('promoted.json'))) as object;
      await models.put('promoted.json', new TextEncoder().encode(JSON.stringify({ ...promoted, deleting: 'kept' })));
      const before = Date.now();
      await deleteUnneeded(models, await planPrune(models, { keepDays: 30, keep: ['kept'] }), () => {});
      const dated = JSON.parse(new TextDecoder().decode(await models.get('promoted.json'))) as { beingDeleted?: Array<{ modelId: string; at: string }>; deleting?: string };
      assert.deepEqual([dated.beingDeleted?.map(({ modelId }) => modelId), dated.deleting], [['kept'], undefined]);
      assert.ok(Date.parse(dated.beingDeleted?.[0]?.at ?? '') >= before - 1000, JSON.stringify(dated));
      await assert.rejects(promoteChecked(models, 'kept', { force: false }), (error: unknown) => error instanceof PromotionRefused && /model version kept is being deleted/.test(error.message));
    });
  });
}
