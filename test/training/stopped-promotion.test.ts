import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { selectBackend } from '../../model/backends.js';
import { listVersions, promotedVersion } from '../../model/versions.js';
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
