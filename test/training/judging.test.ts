import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createAutoencoder, disposeAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { SEED_NORMALIZATION } from '../../model/config.js';
import { promotedVersion, promoteVersion, saveVersion } from '../../model/versions.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { retrain, RunInterrupted } from '../../training/retrain.js';
import { smallFresh, smallRun } from './fixtures.js';
import { smallShards } from './memory-shards.js';

const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-judging-'));
after(() => rmSync(work, { recursive: true, force: true }));
before(() => selectBackend('cpu', 'training', silentLogger));

describe('judging against a promoted version of another normalization', () => {
  const shards = smallShards(4, 4);

  it('does not compare the two on rows normalized for the candidate only: not comparable, not promoted', async () => {
    const models = new FolderStore(join(work, 'other-normalization'));
    const other = createAutoencoder({ ...smallFresh(), normalization: { ...SEED_NORMALIZATION, clipMax: 75, scale: 75 } });
    const { modelId } = await saveVersion(models, other);
    disposeAutoencoder(other);
    await promoteVersion(models, modelId);
    const result = await retrain(smallRun(models, shards, { fresh: smallFresh(), runId: 'other-normalization', steps: 4, stepsPerCheckpoint: 4 }));
    assert.equal(result.currentLoss, null);
    assert.match(result.reason, /not comparable/);
    assert.equal(result.promoted, false);
    assert.equal(await promotedVersion(models), modelId);
  });
});

describe('judging against a promoted version of another architecture', () => {
  const shards = smallShards(4, 4);
  /** A store whose promoted version is an untrained model of 8 dense units (the candidate has 16), and a run that beats it. */
  async function againstOtherArchitecture(name: string, force: boolean) {
    const models = new FolderStore(join(work, name));
    const other = createAutoencoder({ ...smallFresh(), config: { ...smallFresh().config, numdense: 8 } });
    const { modelId } = await saveVersion(models, other);
    disposeAutoencoder(other);
    await promoteVersion(models, modelId);
    const result = await retrain(smallRun(models, shards, { fresh: smallFresh(), runId: name, steps: 20, stepsPerCheckpoint: 20, force }));
    assert.ok(result.currentLoss !== null && result.candidateLoss < result.currentLoss, `the candidate was meant to be better: ${result.reason}`);
    return { models, promotedBefore: modelId, result };
  }

  it('does not promote a better candidate that running consumers would refuse to swap in: saved, the reason names the setting', async () => {
    const { models, promotedBefore, result } = await againstOtherArchitecture('other-architecture', false);
    assert.equal(result.promoted, false);
    assert.match(result.reason, /another architecture than the promoted .*\(numdense 16, not 8\).*saved, not promoted/);
    // The advice is a command that runs as given: it names the version saved.
    assert.ok(result.reason.includes(`model promote ${result.modelId} --force`), result.reason);
    assert.equal(await promotedVersion(models), promotedBefore);
  });

  it('promotes it when forced, as model promote --force does', async () => {
    const { models, result } = await againstOtherArchitecture('other-architecture-forced', true);
    assert.equal(result.promoted, true, result.reason);
    assert.match(result.reason, /promoted because forced/);
    assert.equal(await promotedVersion(models), result.modelId);
  });
});

describe('a forced run stopped and resumed', () => {
  const shards = smallShards(4, 4);

  it('stays forced: resumed without --force (as a trainer resumes a run it finds), its worse candidate is promoted', async () => {
    const models = new FolderStore(join(work, 'forced'));
    const good = await retrain(smallRun(models, shards, { fresh: smallFresh(), runId: 'good', steps: 20, stepsPerCheckpoint: 20 }));
    assert.equal(good.promoted, true);
    const stop = new AbortController();
    const forced = { fresh: smallFresh(), runId: 'forced', steps: 2, stepsPerCheckpoint: 2 };
    await assert.rejects(retrain(smallRun(models, shards, { ...forced, force: true, signal: stop.signal, onProgress: () => stop.abort() })), RunInterrupted);
    const resumed = await retrain(smallRun(models, shards, { ...forced, force: false }));
    assert.equal(resumed.resumedAt, 1);
    assert.ok(resumed.currentLoss !== null && resumed.candidateLoss >= resumed.currentLoss, `the candidate was meant to be worse: ${resumed.reason}`);
    assert.equal(resumed.promoted, true, resumed.reason);
    assert.match(resumed.reason, /promoted because forced/);
    assert.equal(await promotedVersion(models), resumed.modelId);
  });
});
