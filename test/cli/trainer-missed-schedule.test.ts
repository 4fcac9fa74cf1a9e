import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { SEED_NORMALIZATION } from '../../model/config.js';
import { listVersions } from '../../model/versions.js';
import { createShardWriter } from '../../shards/writer.js';
import { SCHEDULE_RECORD_KEY } from '../../training/scheduled-runs.js';
import { HOUR_MS } from '../../stages/sources/hrrr-archive.js';
import { FolderStore } from '../../store/folder.js';
import { SMALL_CONFIG } from '../model/fixtures.js';
import { START } from '../support/analyses.js';
import { runCommandProcess, type CommandResult } from '../support/cli-process.js';
import { FIELD, smallFieldOfHour } from '../training/memory-shards.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-trainer-missed-'));
  const writer = createShardWriter({ store: new FolderStore(join(work, 'shards')), normalization: SEED_NORMALIZATION });
  for (const n of [0, 1, 2, 3, 24, 25]) await writer.append({ validTime: new Date(START.getTime() + n * HOUR_MS), field: FIELD, source: `memory://hour/${n}`, height: 32, width: 64, values: smallFieldOfHour(n) });
  await writer.close();
  await writeFile(join(work, 'small.json'), JSON.stringify({ model: SMALL_CONFIG }));
});
after(() => rm(work, { recursive: true, force: true }));

/** A cron expression (seconds first) of one time a year: `seconds` from now, to the second. */
function onceAt(seconds: number): { cron: string; due: Date } {
  const due = new Date((Math.ceil(Date.now() / 1000) + seconds) * 1000);
  return { cron: `${due.getUTCSeconds()} ${due.getUTCMinutes()} ${due.getUTCHours()} ${due.getUTCDate()} ${due.getUTCMonth() + 1} *`, due };
}

const runIdAt = (due: Date) => `trainer-${due.toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`;

function trainerCase(name: string, cron: string) {
  const models = join(work, name, 'models');
  const common = ['trainer', '--schedule', cron, '--models', models, '--shards', join(work, 'shards'), '--data', join(work, name, 'bus'), '--fresh', '--model-config', join(work, 'small.json'),
    '--from', '2019-09-20T00Z', '--to', '2019-09-21T23Z', '--device', 'cpu', '--verbose'];
  return { models: new FolderStore(models), common };
}

/**
 * Starts a trainer that trains 2 steps a run and is stopped (SIGTERM, once) after its first
 * outcome, or once it has waited `patience` ms for one after its start (then it ran none).
 */
async function trainerUntilFirstRun(common: string[], patience = 30_000): Promise<{ result: CommandResult; outcomes: Array<{ runId: string; modelId: string }> }> {
  const outcomes: Array<{ runId: string; modelId: string }> = [];
  let child: ChildProcess | undefined;
  let guard: NodeJS.Timeout | undefined;
  const result = await runCommandProcess([...common, '--steps', '2', '--steps-per-checkpoint', '2'], {
    onLine: (line, process) => {
      const outcome = JSON.parse(line) as { runId: string; modelId?: string };
      if (outcome.modelId === undefined) return;
      outcomes.push(outcome as (typeof outcomes)[number]);
      if (outcomes.length === 1) process.kill('SIGTERM');
    },
    onStderr: (text, process) => {
      if (child || !text.includes('next scheduled retraining')) return;
      child = process;
      guard = setTimeout(() => outcomes.length === 0 && child!.kill('SIGTERM'), patience);
    },
  });
  clearTimeout(guard);
  return { result, outcomes };
}

describe('trainer: a scheduled retraining that did not happen', () => {
  it('killed (SIGKILL) before its first checkpoint, is run by the next trainer at its start, once', { timeout: 300_000 }, async () => {
    const { cron, due } = onceAt(12);
    const { models, common } = trainerCase('killed', cron);
    // As a trainer stopped a minute ago left it: the scheduled run is then this trainer's whether it
    // is up before its time or (a loaded machine) catches it up just after.
    await models.put(SCHEDULE_RECORD_KEY, new TextEncoder().encode(JSON.stringify({ doneThrough: new Date(Date.now() - 60_000).toISOString(), schedule: cron })));
    const killed = await runCommandProcess([...common, '--steps', '100000', '--steps-per-checkpoint', '100000'], {
      onStderr: (text, child) => {
        if (text.includes('"step":') && child.signalCode === null) child.kill('SIGKILL');
      },
    });
    assert.equal(killed.status, null, `killed in its run: ${killed.stderr}`);
    assert.match(killed.stderr, new RegExp(`"at":"${due.toISOString()}"`), 'the scheduled run had begun');
    const records: string[] = [];
    for await (const { key } of models.list('training/')) if (key.endsWith('latest.json')) records.push(key);
    assert.deepEqual(records, [], 'no checkpoint written: no run record to resume');

    const next = await trainerUntilFirstRun(common);
    assert.equal(next.result.status, 0, next.result.stderr);
    assert.deepEqual(next.outcomes.map(({ runId }) => runId), [runIdAt(due)], `the scheduled run, by its time: ${next.result.stderr}`);
    assert.match(next.result.stderr, /catching it up once/);

    const third = await trainerUntilFirstRun(common, 2_000);
    assert.equal(third.result.status, 0, third.result.stderr);
    assert.deepEqual(third.outcomes, [], 'not run a second time');
    assert.doesNotMatch(third.result.stderr, /catching it up/);
    assert.equal((await listVersions(models)).length, 1);
  });

  it('missed while no trainer ran, is run once by the trainer started after it', { timeout: 180_000 }, async () => {
    // Time enough for the first trainer to be up and record its start before the scheduled time, on a loaded machine too.
    const { cron, due } = onceAt(20);
    const { common } = trainerCase('down', cron);
    let stopped = false;
    const before = await runCommandProcess(common, {
      onStderr: (text, child) => {
        if (!stopped && text.includes('next scheduled retraining')) child.kill('SIGTERM'), (stopped = true);
      },
    });
    assert.equal(before.status, 0, before.stderr);
    while (Date.now() < due.getTime() + 1000) await sleep(200);

    const next = await trainerUntilFirstRun(common);
    assert.equal(next.result.status, 0, next.result.stderr);
    assert.deepEqual(next.outcomes.map(({ runId }) => runId), [runIdAt(due)], `the missed run, by its time: ${next.result.stderr}`);
  });
});
