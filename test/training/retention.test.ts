import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { selectBackend } from '../../model/backends.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import type { ObjectStore } from '../../store/object-store.js';
import { readPointer } from '../../training/checkpoints.js';
import { retrain } from '../../training/retrain.js';
import { smallFresh, smallRun } from './fixtures.js';
import { smallShards } from './memory-shards.js';

const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-retention-'));
after(() => rmSync(work, { recursive: true, force: true }));
before(() => selectBackend('cpu', 'training', silentLogger));

async function keys(store: ObjectStore, prefix: string): Promise<string[]> {
  const found: string[] = [];
  for await (const { key } of store.list(prefix)) found.push(key);
  return found.sort();
}

describe('what retraining runs leave in the model store', () => {
  const shards = smallShards(8, 6);
  const models = new FolderStore(join(work, 'models'));

  it('a finished run leaves its record (latest.json) and its version, not its last checkpoint: a daily retraining keeps no weights or Adam state per run', async () => {
    const first = await retrain(smallRun(models, shards, { fresh: smallFresh(), runId: 'day-1', steps: 4, stepsPerCheckpoint: 2 }));
    const second = await retrain(smallRun(models, shards, { runId: 'day-2', steps: 4, stepsPerCheckpoint: 2 }));
    assert.deepEqual(await keys(models, 'training/'), ['training/day-1/latest.json', 'training/day-2/latest.json']);
    assert.equal((await readPointer(models, 'day-1'))?.finished?.modelId, first.modelId);

    const again = await retrain(smallRun(models, shards, { runId: 'day-2' }));
    assert.equal(again.modelId, second.modelId, 'a finished run asked for again still reports what it made');
  });
});
