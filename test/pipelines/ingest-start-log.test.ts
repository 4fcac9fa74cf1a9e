import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runIngest } from '../../pipelines/ingest.js';
import type { StageLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { hour, seedAnalyses } from '../support/analyses.js';

const folder = await mkdtemp(join(tmpdir(), 'hrrr-embed-ingest-start-'));
after(() => rm(folder, { recursive: true, force: true }));

/** Runs the ingest pipeline over hours 0 to 1 and returns what its 'ingest starting' line said of the progress record. */
async function startingProgress(store: FolderStore): Promise<unknown> {
  const lines: Array<{ object: Record<string, unknown>; message: string | undefined }> = [];
  const keep = (object: object, message?: string) => void lines.push({ object: object as Record<string, unknown>, message });
  const log: StageLogger = { debug: keep, info: keep, warn: keep, error: keep };
  await runIngest(
    { source: store, state: store, progressKey: 'progress/run.json', match: /:REFC:/, from: hour(0), to: hour(1), discovery: { pollIntervalMs: 5 } },
    { deliver: async () => {} },
    { log, signal: new AbortController().signal },
  );
  return lines.find(({ message }) => message === 'ingest starting')?.object.progress;
}

describe("ingest's starting line", () => {
  it('says nothing is done yet on a fresh state store, and what is done on the next start', async () => {
    const store = new FolderStore(folder);
    await seedAnalyses(store, [0, 1]);
    assert.equal(await startingProgress(store), 'nothing done yet', 'not "done through" the hour before --from');
    assert.equal(await startingProgress(store), 'done through 2019-09-20T01Z, 0 more after it');
  });
});
