import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { selectBackend } from '../../model/backends.js';
import { listVersions, promotedVersion } from '../../model/versions.js';
import { silentLogger } from '../../stages/stage.js';
import type { ObjectStore } from '../../store/object-store.js';
import { readPointer } from '../../training/checkpoints.js';
import { acquireLease, type LeaseRecord } from '../../store/lease.js';
import { retrain } from '../../training/retrain.js';
import { storeKinds } from '../support/stores.js';
import { smallFresh, smallRun } from './fixtures.js';
import { smallShards } from './memory-shards.js';

const setup = await storeKinds();
after(() => setup.stop());
before(() => selectBackend('cpu', 'training', silentLogger));

/** What a second trainer does once this one has stalled past its lease's expiry: it takes the next number. */
async function takeOver(store: ObjectStore, epoch: number): Promise<void> {
  const next: LeaseRecord = { owner: 'next trainer', epoch, acquiredAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 60_000).toISOString() };
  await store.put(`trainer-lease/${String(epoch).padStart(12, '0')}.json`, new TextEncoder().encode(JSON.stringify(next)));
}

for (const kind of setup.kinds) {
  describe(`a run whose trainer loses the lease after its last checkpoint: ${kind.name}`, () => {
    it('saves no version, promotes nothing and fails naming the lost lease', async () => {
      const models = await kind.create();
      const lease = (await acquireLease(models, { owner: 'stalled trainer', log: silentLogger }))!;
      let confirmations = 0;
      // The lease holds for the last checkpoint; another trainer takes it while the candidate is judged.
      const confirmLease = async () => {
        await lease.confirm();
        if (++confirmations === 1) await takeOver(models, lease.epoch + 1);
      };
      await assert.rejects(retrain(smallRun(models, smallShards(4, 4), { fresh: smallFresh(), runId: 'fenced', steps: 4, stepsPerCheckpoint: 4, force: true, confirmLease })), /lost the trainer lease: a later trainer took it/);
      assert.deepEqual(await listVersions(models), [], 'a trainer that lost the lease saved a version');
      assert.equal(await promotedVersion(models), undefined);
      const pointer = await readPointer(models, 'fenced');
      assert.equal(pointer?.step, 4);
      assert.equal(pointer?.judged, undefined);
      await lease.release();
    });
  });
}
