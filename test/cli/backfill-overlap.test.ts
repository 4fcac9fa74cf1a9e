import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Progress } from '../../pipelines/progress.js';
import { BACKFILL_PROGRESS_KEY } from '../../pipelines/backfill.js';
import { FolderStore } from '../../store/folder.js';
import { putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { runCommandProcess } from '../support/cli-process.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-backfill-overlap-'));
  const source = new FolderStore(join(work, 'source'));
  for (let n = 0; n < 6; n++) await putAnalysis(source, smallAnalysisOfHour(n));
});
after(() => rm(work, { recursive: true, force: true }));

const backfill = (from: string, to: string, options: Parameters<typeof runCommandProcess>[1] = {}) =>
  runCommandProcess(['backfill', '--source', join(work, 'source'), '--out', join(work, 'out'), '--from', from, '--to', to, '--concurrency', '1', '--quiet'], options);

describe('two backfills into one --out at once', () => {
  it('the second waits for the first (a lease on its progress record): both ranges stay recorded as done', { timeout: 120_000 }, async () => {
    // The first is paused (SIGSTOP) after its first hour, so that the second certainly runs while it is under way.
    let firstChild: ChildProcess | undefined;
    let paused!: () => void;
    const firstPaused = new Promise<void>((resolve) => (paused = resolve));
    const first = backfill('2019-09-20T00Z', '2019-09-20T02Z', {
      onLine: (line, child) => {
        if (firstChild || !line.includes('"status":"done"')) return;
        firstChild = child;
        child.kill('SIGSTOP');
        paused();
      },
    });
    await firstPaused;

    // The second either waits (a lease) or does its hours and ends while the first is paused.
    let secondStderr = '';
    let secondWaits!: () => void;
    const waiting = new Promise<void>((resolve) => (secondWaits = resolve));
    const second = backfill('2019-09-20T03Z', '2019-09-20T05Z', {
      onStderr: (text) => {
        secondStderr = text;
        if (text.includes('waiting for it')) secondWaits();
      },
    });
    await Promise.race([waiting, second]);
    firstChild!.kill('SIGCONT');
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(b.status, 0, b.stderr);

    const progress = await Progress.load(new FolderStore(join(work, 'out')), BACKFILL_PROGRESS_KEY);
    const hours = [0, 1, 2, 3, 4, 5].map((n) => new Date(Date.UTC(2019, 8, 20, n)));
    assert.deepEqual(hours.filter((hour) => !progress.isDone(hour)), [], `hours the record lost: ${await readFile(join(work, 'out', BACKFILL_PROGRESS_KEY), 'utf8')}`);
    assert.match(secondStderr, /another backfill holds the lease of progress\/backfill\.json in this --out: waiting for it/);
  });
});
