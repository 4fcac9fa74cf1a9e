import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { selectBackend } from '../../model/backends.js';
import { promotedVersion } from '../../model/versions.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { retrain } from '../../training/retrain.js';
import { smallFresh, smallRun } from './fixtures.js';
import { smallShards } from './memory-shards.js';

const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-diverging-'));
after(() => rmSync(work, { recursive: true, force: true }));
before(() => selectBackend('cpu', 'training', silentLogger));

describe('a diverging run', () => {
  const shards = smallShards(4, 4);

  for (const force of [false, true]) {
    it(`is saved but never promoted when its held-out loss is not finite, with nothing promoted${force ? ' and --force' : ''}`, async () => {
      const models = new FolderStore(join(work, `models-${force}`));
      const announced: string[] = [];
      const result = await retrain(smallRun(models, shards, { fresh: smallFresh(), runId: 'diverging', steps: 4, stepsPerCheckpoint: 4, learningRate: 1e30, force, announce: async (version) => void announced.push(version.version) }));
      assert.ok(!Number.isFinite(result.candidateLoss), `the run was meant to diverge: held-out loss ${result.candidateLoss}`);
      assert.equal(result.promoted, false, result.reason);
      assert.match(result.reason, /not finite/);
      assert.equal(await promotedVersion(models), undefined);
      assert.deepEqual(announced, []);
    });
  }
});
