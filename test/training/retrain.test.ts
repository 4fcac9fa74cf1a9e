import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decode as decodePng } from 'fast-png';
import { AvroCodec } from '../../bus/avro/codec.js';
import { openBus } from '../../bus/open.js';
import type { ModelVersion } from '../../bus/records.js';
import { disposeAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { listVersions, loadVersion, promotedVersion, readManifest } from '../../model/versions.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { announcePromotion } from '../../training/announce.js';
import { readPointer } from '../../training/checkpoints.js';
import { evaluateHeldOut, mean, quantile } from '../../training/evaluate.js';
import { CorruptShardError } from '../../shards/catalog.js';
import type { ShardCatalog, ShardManifest, ShardRow } from '../../shards/types.js';
import { splitShards } from '../../training/held-out.js';
import { retrain } from '../../training/retrain.js';
import { smallFresh, smallRun } from './fixtures.js';
import { smallShards } from './memory-shards.js';

/** A shard's rows as a catalog reads a bad shard: the first next() rejects. */
function failing(error: Error): AsyncIterable<ShardRow> {
  return { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }) };
}

const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-retrain-'));
after(() => rmSync(work, { recursive: true, force: true }));
before(() => selectBackend('cpu', 'training', silentLogger));

describe('retraining on shards', () => {
  const shards = smallShards(8, 6);
  const models = new FolderStore(join(work, 'models'));
  const data = join(work, 'bus');

  it('trains a fresh small model, lowers its held-out loss, promotes it and announces it on model-versions', async () => {
    const bus = openBus({ data });
    const codec = await AvroCodec.create();
    const fresh = smallFresh();
    const result = await retrain(smallRun(models, shards, { fresh, runId: 'first', announce: (version) => announcePromotion(bus, codec, version) }));
    assert.equal(result.promoted, true, result.reason);
    assert.equal(await promotedVersion(models), result.modelId);

    // The untrained model of the same seed on the same held-out rows, against the candidate.
    const { heldOut } = splitShards(await shards.list({ field: 'REFC:entire atmosphere:anl' }), 0.2);
    const { createAutoencoder } = await import('../../model/autoencoder.js');
    const untrained = createAutoencoder(fresh);
    const { model: trained } = await loadVersion(models, result.modelId);
    const { errors } = await evaluateHeldOut([untrained, trained], shards, heldOut, 4);
    assert.ok(mean(errors[1]!) < mean(errors[0]!) * 0.75, `held-out loss ${mean(errors[0]!)} before, ${mean(errors[1]!)} after`);
    assert.ok(Math.abs(mean(errors[1]!) - result.candidateLoss) < 1e-6);
    disposeAutoencoder(untrained);
    disposeAutoencoder(trained);

    const manifest = await readManifest(models, result.modelId);
    assert.equal(manifest.metrics.steps, 60);
    assert.equal(manifest.metrics.heldOutLoss, result.candidateLoss);
    assert.equal(manifest.trainingData!.fields, 48 - 6 * heldOut.length);
    assert.ok(decodePng(await models.get(`versions/${result.modelId}/loss.png`)).width > 0);
    assert.ok(decodePng(await models.get(`versions/${result.modelId}/before-after.png`)).width > 0);

    const consumer = bus.consumer({ group: 'test', topics: ['model-versions'], fromBeginning: true });
    const stop = new AbortController();
    for await (const record of consumer.records(stop.signal)) {
      const { key, value } = (await codec.decode(record)) as { key: string; value: ModelVersion };
      assert.equal(key, models.url);
      assert.equal(value.version, result.modelId);
      assert.equal(value.alertThreshold, result.alertThreshold);
      assert.equal(value.validationLoss, result.candidateLoss);
      assert.equal(value.embeddingSize, 16);
      stop.abort();
    }
    await consumer.close();
    await bus.close();
  });

  it('sets the alert threshold to the 0.99 quantile of the candidate\'s held-out errors', async () => {
    const id = (await promotedVersion(models))!;
    const manifest = await readManifest(models, id);
    const { heldOut } = splitShards(await shards.list({ field: 'REFC:entire atmosphere:anl' }), 0.2);
    const { model } = await loadVersion(models, id);
    const { errors } = await evaluateHeldOut([model], shards, heldOut, 4);
    disposeAutoencoder(model);
    const sorted = [...errors[0]!].sort((a, b) => a - b);
    assert.ok(manifest.alertThreshold! >= sorted.at(-2)! && manifest.alertThreshold! <= sorted.at(-1)!, `${manifest.alertThreshold} among ${sorted}`);
    assert.ok(Math.abs(manifest.alertThreshold! - quantile(errors[0]!, 0.99)) < 1e-6);
  });

  it('warm-starts from the promoted version; a worse candidate is saved but not promoted, and --force promotes it', async () => {
    const promoted = (await promotedVersion(models))!;
    // A learning rate far too large wrecks the weights: the candidate is worse than what is promoted.
    const worse = await retrain(smallRun(models, shards, { runId: 'wrecked', steps: 5, stepsPerCheckpoint: 5, learningRate: 0.5 }));
    assert.equal(worse.promoted, false);
    assert.match(worse.reason, /not below .* saved, not promoted/);
    assert.ok(worse.candidateLoss > worse.currentLoss!);
    assert.equal(await promotedVersion(models), promoted);
    assert.ok((await listVersions(models)).includes(worse.modelId));

    const forced = await retrain(smallRun(models, shards, { runId: 'forced', steps: 5, stepsPerCheckpoint: 5, learningRate: 0.5, force: true }));
    assert.equal(forced.promoted, true);
    assert.match(forced.reason, /promoted because forced/);
    assert.equal(await promotedVersion(models), forced.modelId);
  });

  it('does not promote a candidate only as good as the promoted version: a learning rate of 1e-30 leaves the weights as they were, and the held-out loss equal', async () => {
    const promoted = (await promotedVersion(models))!;
    const same = await retrain(smallRun(models, shards, { runId: 'unchanged', steps: 1, stepsPerCheckpoint: 1, learningRate: 1e-30 }));
    assert.equal(same.candidateLoss, same.currentLoss);
    assert.equal(same.promoted, false, same.reason);
    assert.match(same.reason, /is not below .*: saved, not promoted/);
    assert.equal(await promotedVersion(models), promoted);
  });

  it("a candidate promoted over another version has an alert threshold of its own held-out errors, and is announced with its own held-out loss", async () => {
    const announced: ModelVersion[] = [];
    const result = await retrain(smallRun(models, shards, { runId: 'fresh-forced', fresh: smallFresh(), steps: 20, force: true, announce: async (version) => void announced.push(version) }));
    assert.equal(result.promoted, true, result.reason);
    assert.ok(result.currentLoss !== null && result.currentLoss !== result.candidateLoss, `judged against the promoted version, whose held-out loss ${result.currentLoss} is not the candidate's ${result.candidateLoss}`);
    const { heldOut } = splitShards(await shards.list({ field: 'REFC:entire atmosphere:anl' }), 0.2);
    const { model } = await loadVersion(models, result.modelId);
    const { errors } = await evaluateHeldOut([model], shards, heldOut, 4);
    disposeAutoencoder(model);
    assert.ok(Math.abs(result.alertThreshold - quantile(errors[0]!, 0.99)) < 1e-6, `${result.alertThreshold}, the candidate's 0.99 quantile ${quantile(errors[0]!, 0.99)}`);
    assert.deepEqual(announced.map(({ version, validationLoss, alertThreshold }) => ({ version, validationLoss, alertThreshold })), [{ version: result.modelId, validationLoss: result.candidateLoss, alertThreshold: result.alertThreshold }]);
  });

  it('writes no checkpoint and promotes nothing once confirmLease refuses (its trainer lost the lease): the run fails with that reason', async () => {
    const promoted = await promotedVersion(models);
    let confirmations = 0;
    // Held for the first checkpoint (step 2), lost before the second (step 4).
    const confirmLease = async () => {
      if (++confirmations > 1) throw new Error('lost the trainer lease: test');
    };
    await assert.rejects(retrain(smallRun(models, shards, { runId: 'fenced', steps: 5, stepsPerCheckpoint: 2, force: true, confirmLease })), /lost the trainer lease: test/);
    assert.equal((await readPointer(models, 'fenced'))?.step, 2);
    assert.equal(await promotedVersion(models), promoted);
  });

  it('a finished run asked for again reports what it made, without training', async () => {
    const again = await retrain(smallRun(models, shards, { runId: 'first' }));
    assert.equal(again.modelId, (await readManifest(models, again.modelId)).modelId);
    assert.equal(again.steps, 60);
  });

  it('holds out whole UTC days, the same ones whatever else is in the store, with an hour kept twice on one side; at least one shard of two', async () => {
    const day = (shard: ShardManifest) => shard.from.slice(0, 10);
    // Four shards of six hours a day, for 8 and for 40 days.
    const listed = (days: number) => smallShards(4 * days, 6).list({ field: 'REFC:entire atmosphere:anl' });
    const many = await listed(40);
    const split = splitShards(many, 0.2);
    const heldOutDays = new Set(split.heldOut.map(day));
    assert.ok(heldOutDays.size >= 2 && heldOutDays.size <= 16, `${heldOutDays.size} of 40 days held out`);
    for (const shard of split.train) assert.ok(!heldOutDays.has(day(shard)), `${day(shard)} is held out and trained on`);
    for (const shard of splitShards(await listed(8), 0.2).heldOut) assert.ok(heldOutDays.has(day(shard)), `${day(shard)} held out among 8 days but not among 40`);

    const again = { ...split.heldOut[0]!, id: 'part-again', createdAt: new Date().toISOString() };
    assert.ok(splitShards([...many, again], 0.2).heldOut.includes(again), 'the second shard of a held-out hour is trained on');
    const two = splitShards(await smallShards(2, 1).list({ field: 'REFC:entire atmosphere:anl' }), 0.2);
    assert.deepEqual([two.train.length, two.heldOut.length], [1, 1]);
  });

  it('leaves out a shard whose object fails its checks, naming it in the log, and trains and judges on the others', async () => {
    const many = smallShards(16, 6);
    const held = splitShards(await many.list({ field: 'REFC:entire atmosphere:anl' }), 0.2);
    assert.ok(held.heldOut.length >= 2, `${held.heldOut.length} held-out shards`);
    const bad = new Set([held.train[0]!.id, held.heldOut[0]!.id]);
    const catalog: ShardCatalog = {
      url: many.url,
      list: (query) => many.list(query),
      read: (manifest) => (bad.has(manifest.id) ? failing(new CorruptShardError(`shard ${manifest.id}: memory/${manifest.id}.arrow has SHA-256 0, its manifest says 1`)) : many.read(manifest)),
    };
    const errors: string[] = [];
    const log = { ...silentLogger, error: (fields: object, message?: string) => void errors.push(`${message} ${JSON.stringify(fields)}`) };
    const result = await retrain(smallRun(new FolderStore(join(work, 'corrupt-models')), catalog, { runId: 'corrupt', fresh: smallFresh(), steps: 20, log }));
    assert.ok(Number.isFinite(result.candidateLoss));
    for (const id of bad) assert.match(errors.join('\n'), new RegExp(`shard left out: shard ${id}: memory/${id}.arrow has SHA-256`));
    const all = await retrain(smallRun(new FolderStore(join(work, 'corrupt-models-2')), { ...catalog, read: (manifest) => failing(new CorruptShardError(`shard ${manifest.id} is bad`)) }, { runId: 'all-corrupt', fresh: smallFresh(), steps: 20, log })).catch((error: Error) => error);
    assert.match(String(all), /no training shard could be read|no held-out shard could be read/);
  });

  it('says that no training shard could be read, naming them, when every one was left out (not that they hold no rows)', async () => {
    const many = smallShards(16, 6);
    const held = splitShards(await many.list({ field: 'REFC:entire atmosphere:anl' }), 0.2);
    const bad = new Set(held.train.map((shard) => shard.id));
    const catalog: ShardCatalog = {
      url: many.url,
      list: (query) => many.list(query),
      read: (manifest) => (bad.has(manifest.id) ? failing(new CorruptShardError(`shard ${manifest.id} is bad`)) : many.read(manifest)),
    };
    const failed = await retrain(smallRun(new FolderStore(join(work, 'train-all-corrupt')), catalog, { runId: 'train-all-corrupt', fresh: smallFresh(), steps: 4 })).catch((error: Error) => error);
    assert.ok(failed instanceof Error, 'the run fails');
    assert.match(failed.message, /^no training shard could be read \(.*\): each was left out \(logged "shard left out"\) or holds no rows$/);
    for (const id of bad) assert.ok(failed.message.includes(id), id);
  });

  it("refuses, naming what is wrong: no shards in the range, shards of another shape (a first training with nothing promoted takes the seed's configuration)", async () => {
    const empty = new FolderStore(join(work, 'empty-models'));
    await assert.rejects(retrain(smallRun(empty, shards, { runId: 'none', fresh: smallFresh(), from: new Date('2030-01-01T00:00:00Z'), to: new Date('2030-02-01T00:00:00Z') })), /no shards of REFC:entire atmosphere:anl from 2030-01-01T00:00:00.000Z to 2030-02-01T00:00:00.000Z in memory:\/\/shards\/$/);
    await assert.rejects(retrain(smallRun(empty, shards, { runId: 'cold' })), /holds 32 x 64 fields, the model takes 1024 x 1792/);
    const wide = { ...smallFresh(), config: { ...smallFresh().config, inputWidth: 134 } };
    await assert.rejects(retrain(smallRun(empty, shards, { runId: 'wide', fresh: wide })), /shard part-\d holds 32 x 64 fields, the model takes 32 x 128/);
  });
});
