import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createAutoencoder } from '../../model/autoencoder.js';
import { selectBackend } from '../../model/backends.js';
import { promoteVersion, saveVersion } from '../../model/versions.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { SMALL_CONFIG } from '../model/fixtures.js';
import { putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { runCommandProcess } from '../support/cli-process.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-run-overlap-'));
  const source = new FolderStore(join(work, 'source'));
  for (let n = 0; n < 3; n++) await putAnalysis(source, smallAnalysisOfHour(n));
  await selectBackend('cpu', 'inference', silentLogger);
  const models = new FolderStore(join(work, 'models'));
  const { modelId } = await saveVersion(models, createAutoencoder({ config: SMALL_CONFIG }), { modelId: 'small-1', alertThreshold: 0.5 });
  await promoteVersion(models, modelId);
});
after(() => rm(work, { recursive: true, force: true }));

const args = () => ['run', '--source', join(work, 'source'), '--data', join(work, 'data'), '--model', join(work, 'models'), '--device', 'cpu', '--concurrency', '1', '--poll-seconds', '0.05'];
const doneHours = (lines: unknown[]) => lines.filter((line) => (line as { status?: string }).status === 'done').map((line) => (line as { hour: string }).hour);

/** Resolves once `predicate` holds, checked at each event that may change it. */
function until(predicate: () => boolean): { check(): void; reached: Promise<void> } {
  let resolve!: () => void;
  const reached = new Promise<void>((r) => (resolve = r));
  const check = () => predicate() && resolve();
  return { check, reached };
}

describe('two polling consumers on one state store', () => {
  it('the second waits for the first to stop (its lease on progress/run.json), then goes on from its record: every hour done once', { timeout: 180_000 }, async () => {
    let firstChild: ChildProcess | undefined;
    const firstDone: string[] = [];
    const firstAt05 = until(() => firstDone.includes('2019-09-20T05Z'));
    const firstAt02 = until(() => firstDone.includes('2019-09-20T02Z'));
    const first = runCommandProcess([...args(), '--from', '2019-09-20T00Z'], {
      onLine: (line, child) => {
        firstChild = child;
        const parsed = JSON.parse(line) as { status?: string; hour?: string };
        if (parsed.status === 'done') firstDone.push(parsed.hour!);
        firstAt02.check();
        firstAt05.check();
      },
    });
    await firstAt02.reached;

    // The second: started by mistake, or by a rolling update before the first stopped. Its stderr says
    // either that it waits (a lease) or that its encoder is up (it is about to take hours).
    let secondStderr = '';
    const secondStarted = until(() => /another consumer holds|"thread":"worker"/.test(secondStderr));
    const second = runCommandProcess([...args(), '--to', '2019-09-20T05Z'], {
      onStderr: (text) => {
        secondStderr = text;
        secondStarted.check();
      },
    });
    await secondStarted.reached;

    // New hours come while both are up.
    const source = new FolderStore(join(work, 'source'));
    for (let n = 3; n < 6; n++) await putAnalysis(source, smallAnalysisOfHour(n));
    await firstAt05.reached;
    firstChild!.kill('SIGTERM');
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(b.status, 0, b.stderr);
    assert.match(b.stderr, /another consumer holds the lease of progress\/run\.json in this state store: waiting for it/);
    const all = [...doneHours(a.lines), ...doneHours(b.lines)].sort();
    assert.deepEqual(all, ['00', '01', '02', '03', '04', '05'].map((h) => `2019-09-20T${h}Z`), 'every hour done once, by one consumer or the other');
  });

  it('a consumer that finds its lease taken by another (it stalled past the expiry) stops as on SIGTERM and exits 1', { timeout: 120_000 }, async () => {
    const state = join(work, 'taken-state');
    let taken = false;
    const result = await runCommandProcess([...args().slice(0, 3), '--data', join(work, 'taken-data'), '--state', state, ...args().slice(5), '--from', '2019-09-20T00Z'], {
      onLine: (line) => {
        if (taken || !line.includes('"status":"done"')) return;
        taken = true;
        // As a consumer that started once this one's lease seemed expired would have written it.
        const other = { owner: 'another host pid 1 0000', epoch: 99, acquiredAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 600_000).toISOString() };
        void new FolderStore(state).put('progress/run-lease/000000000099.json', new TextEncoder().encode(JSON.stringify(other)));
      },
    });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /lost the consumer lease: a later consumer took it/);
    assert.match(result.stderr, /shutting down: finishing the analyses in flight/);
  });
});
