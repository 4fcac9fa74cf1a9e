import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { selectBackend } from '../../model/backends.js';
import { silentLogger, type StageLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { readPointer } from '../../training/checkpoints.js';
import { retrain } from '../../training/retrain.js';
import { smallFresh, smallRun } from './fixtures.js';
import { smallShards } from './memory-shards.js';

const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-resumed-settings-'));
after(() => rmSync(work, { recursive: true, force: true }));
before(() => selectBackend('cpu', 'training', silentLogger));

/** A logger that keeps its warnings. */
function warningsLog(): { log: StageLogger; warnings: Array<{ fields: Record<string, unknown>; message: string }> } {
  const warnings: Array<{ fields: Record<string, unknown>; message: string }> = [];
  return { log: { ...silentLogger, warn: (fields, message = '') => void warnings.push({ fields: fields as Record<string, unknown>, message }) }, warnings };
}

describe('a resumed run given other settings than its checkpoint', () => {
  const shards = smallShards(4, 4);
  const models = new FolderStore(join(work, 'models'));
  const run = { fresh: smallFresh(), runId: 'resumed', steps: 6, stepsPerCheckpoint: 2, batchSize: 4, learningRate: 0.005 };
  /** Lets `held` checkpoints through, then refuses as a lost lease does: the run stops there. */
  const stopAfter = (held: number) => {
    let confirmations = 0;
    return async () => {
      if (++confirmations > held) throw new Error('stopped for the test');
    };
  };

  it('keeps the checkpoint\'s steps, batch size and learning rate, and warns naming each with the value used and the value ignored', async () => {
    await assert.rejects(retrain(smallRun(models, shards, { ...run, confirmLease: stopAfter(1) })), /stopped for the test/);
    assert.equal((await readPointer(models, 'resumed'))?.step, 2);

    const { log, warnings } = warningsLog();
    await assert.rejects(retrain(smallRun(models, shards, { ...run, steps: 10, batchSize: 2, learningRate: 0.01, log, confirmLease: stopAfter(0) })), /stopped for the test/);
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    const [{ fields, message }] = warnings as [(typeof warnings)[0]];
    assert.deepEqual(fields.ignored, { steps: { checkpoint: 6, given: 10 }, batchSize: { checkpoint: 4, given: 2 }, learningRate: { checkpoint: 0.005, given: 0.01 } });
    assert.equal(fields.runId, 'resumed');
    for (const part of ["--steps 6 (this command's 10 ignored)", "--batch-size 4 (this command's 2 ignored)", "--learning-rate 0.005 (this command's 0.01 ignored)"]) assert.ok(message.includes(part), `${message} does not say ${part}`);
  });

  it('warns of nothing when resumed with the settings it started with, and finishes with them', async () => {
    const { log, warnings } = warningsLog();
    const result = await retrain(smallRun(models, shards, { ...run, log }));
    assert.deepEqual(warnings, []);
    assert.equal(result.resumedAt, 2);
    assert.equal(result.steps, 6);
  });
});
