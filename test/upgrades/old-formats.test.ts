import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../model/backends.js';
import { loadVersion, previouslyPromoted, promotedVersion } from '../../model/versions.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { retrain } from '../../training/retrain.js';
import { repoRoot } from '../paths.js';
import { smallFresh, smallRun } from '../training/fixtures.js';
import { smallShards } from '../training/memory-shards.js';

/** What an earlier build wrote (commit 9563674, see fixtures/README.md): a deployment's state on the day it upgrades. */
const fixtures = join(repoRoot, 'test', 'upgrades', 'fixtures');
const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-upgrades-'));
after(() => rmSync(work, { recursive: true, force: true }));
before(() => selectBackend('cpu', 'training', silentLogger));

describe('upgrading: what an earlier build wrote', () => {
  it('loads the model version it promoted (model.json without a weights digest, promoted.json without previous) and embeds as that build did', async () => {
    const store = new FolderStore(join(fixtures, 'models-9563674'));
    assert.equal(await promotedVersion(store), 'v1');
    assert.equal(await previouslyPromoted(store), undefined);
    const { model, manifest } = await loadVersion(store);
    assert.equal(manifest.alertThreshold, 0.01);
    const field = tf.randomUniform([1, 38, 70, 1], 0, 1, 'float32', 11);
    const cropped = tf.slice(field, [0, 3, 3, 0], [1, 32, 64, 1]);
    const embedding = [...(await (model.encoder.predict(cropped) as tf.Tensor).data())];
    assert.deepEqual(embedding, JSON.parse(readFileSync(join(fixtures, 'models-9563674', 'expected-embedding.json'), 'utf8')));
  });

  it('resumes a training run it checkpointed (a plan without force) where it stopped, with the losses its own uninterrupted run had', async () => {
    const folder = join(work, 'checkpoint');
    cpSync(join(fixtures, 'checkpoint-9563674'), folder, { recursive: true });
    const losses = new Map<number, number>();
    // The run of test/training/retrain-child.ts, which that build ran and was killed after its first checkpoint.
    const result = await retrain(smallRun(new FolderStore(folder), smallShards(8, 6), { runId: 'run1', fresh: smallFresh(), onProgress: ({ step, loss }) => losses.set(step, loss) }));
    assert.equal(result.resumedAt, 20);
    assert.equal(result.steps, 60);
    assert.deepEqual([...losses.keys()].slice(0, 2), [21, 22]);
    // Step 21's loss of that build's run left uninterrupted.
    assert.ok(Math.abs(losses.get(21)! - 0.0035813390277326107) < 1e-9, `step 21: ${losses.get(21)}`);
    assert.equal(result.promoted, true);
  });
});
