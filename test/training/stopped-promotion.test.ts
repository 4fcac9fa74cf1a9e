import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { selectBackend } from '../../model/backends.js';
import { createAutoencoder, disposeAutoencoder } from '../../model/autoencoder.js';
import { listVersions, promotedVersion, promoteVersion, saveVersion } from '../../model/versions.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { readPointer } from '../../training/checkpoints.js';
import { retrain } from '../../training/retrain.js';
import { smallFresh, smallRun } from './fixtures.js';
import { smallShards } from './memory-shards.js';

const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-stopped-promotion-'));
after(() => rmSync(work, { recursive: true, force: true }));
before(() => selectBackend('cpu', 'training', silentLogger));

describe('a run stopped while promoting its candidate', () => {
  const shards = smallShards(4, 4);
  const run = { fresh: smallFresh(), runId: 'stopped', steps: 4, stepsPerCheckpoint: 4 };

  it('promotes and announces the saved candidate when run again, without training or saving it twice', async () => {
    const models = new FolderStore(join(work, 'between-save-and-promote'));
    let confirmations = 0;
    const stop = async () => {
      // The first confirmation is the checkpoint's, the second the saving's, the third comes right before promoting.
      if (++confirmations === 3) throw new Error('stopped before promoting');
    };
    await assert.rejects(retrain(smallRun(models, shards, { ...run, confirmLease: stop })), /stopped before promoting/);
    const [saved] = await listVersions(models);
    assert.equal(await promotedVersion(models), undefined);

    const announced: string[] = [];
    let steps = 0;
    const result = await retrain(smallRun(models, shards, { ...run, announce: async (version) => void announced.push(version.version), onProgress: () => void steps++ }));
    assert.equal(steps, 0, 'trained again');
    assert.deepEqual(await listVersions(models), [saved]);
    assert.equal(result.modelId, saved);
    assert.equal(result.promoted, true, result.reason);
    assert.equal(await promotedVersion(models), saved);
    assert.deepEqual(announced, [saved]);
    assert.equal((await readPointer(models, 'stopped'))?.finished?.modelId, saved);
  });

  it('does not overrule a version promoted by hand since it judged its candidate: saved, not promoted, when run again', async () => {
    const models = new FolderStore(join(work, 'promoted-by-hand-meanwhile'));
    let confirmations = 0;
    const stop = async () => {
      if (++confirmations === 3) throw new Error('stopped before promoting');
    };
    await assert.rejects(retrain(smallRun(models, shards, { ...run, confirmLease: stop })), /stopped before promoting/);
    const [candidate] = await listVersions(models);
    const byHand = createAutoencoder(smallFresh());
    await saveVersion(models, byHand, { modelId: 'by-hand' });
    disposeAutoencoder(byHand);
    await promoteVersion(models, 'by-hand');

    const announced: string[] = [];
    const result = await retrain(smallRun(models, shards, { ...run, announce: async (version) => void announced.push(version.version) }));
    assert.equal(result.modelId, candidate);
    assert.equal(result.promoted, false);
    assert.match(result.reason, /but by-hand was promoted meanwhile: saved, not promoted/);
    assert.equal(await promotedVersion(models), 'by-hand');
    assert.deepEqual(announced, []);
  });

  it('announces a promotion that a stop kept from being announced, and reports it promoted', async () => {
    const models = new FolderStore(join(work, 'between-promote-and-announce'));
    await assert.rejects(retrain(smallRun(models, shards, { ...run, announce: () => Promise.reject(new Error('stopped before announcing')) })), /stopped before announcing/);
    const promoted = await promotedVersion(models);
    assert.ok(promoted);

    const announced: string[] = [];
    const result = await retrain(smallRun(models, shards, { ...run, announce: async (version) => void announced.push(version.version) }));
    assert.deepEqual(await listVersions(models), [promoted]);
    assert.equal(result.modelId, promoted);
    assert.equal(result.promoted, true, result.reason);
    assert.deepEqual(announced, [promoted]);
  });
});
