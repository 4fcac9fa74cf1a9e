import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { silentLogger } from '../../stages/stage.js';
import { Schedule, ScheduleError } from '../../training/schedule.js';
import { runTrainer, type Trigger } from '../../training/trainer.js';
import { repoRoot } from '../paths.js';

const cli = join(repoRoot, 'dist', 'cli', 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

describe('the trainer\'s schedule', () => {
  it('gives the next run times of a cron expression, in UTC', () => {
    const times = Schedule.parse('0 3 * * *').next(new Date('2026-11-24T10:00:00Z'), 3).map((time) => time.toISOString());
    assert.deepEqual(times, ['2026-11-25T03:00:00.000Z', '2026-11-26T03:00:00.000Z', '2026-11-27T03:00:00.000Z']);
    assert.deepEqual(Schedule.parse('30 */6 * * 1').next(new Date('2026-11-23T07:00:00Z'), 2).map((time) => time.toISOString()), ['2026-11-23T12:30:00.000Z', '2026-11-23T18:30:00.000Z']);
    assert.equal(Schedule.parse('@weekly').next(new Date('2026-11-24T10:00:00Z'))[0]!.toISOString(), '2026-11-29T00:00:00.000Z');
  });

  it('refuses what is not a cron expression, saying why, including too few fields that cron-parser would fill in', () => {
    assert.throws(() => Schedule.parse('61 * * * *'), (error: Error) => error instanceof ScheduleError && /61/.test(error.message));
    assert.throws(() => Schedule.parse('* * *'), /has 3 fields: a cron expression has 5/);
    assert.throws(() => Schedule.parse('every day'), ScheduleError);
  });

  it('on the command line, a bad --schedule exits 2 naming --schedule, and --print-next prints the next times', () => {
    const bad = run('trainer', '--schedule', '0 25 * * *', '--models', '/nowhere', '--shards', '/nowhere');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--schedule: "0 25 \* \* \*" is not a cron expression/);
    const next = run('trainer', '--schedule', '0 3 * * *', '--print-next', '2');
    assert.equal(next.status, 0, next.stderr);
    const { next: times } = JSON.parse(next.stdout) as { next: string[] };
    assert.equal(times.length, 2);
    assert.ok(times.every((time) => time.endsWith('T03:00:00.000Z')));
  });

  it('retrain and trainer explain themselves with --help and refuse a command line without their stores', () => {
    assert.equal(run('retrain', '--help').status, 0);
    assert.match(run('trainer', '--help').stdout, /--schedule CRON/);
    const missing = run('retrain', '--shards', '/nowhere');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--models is required/);
    assert.match(run('retrain', '--models', '/a', '--shards', '/b', '--model-config', 'x.json').stderr, /needs --fresh/);
    assert.match(run('retrain', '--models', '/a', '--shards', '/b', '--steps', '0').stderr, /--steps: 0 is not a whole number of at least 1/);
    for (const [option, args] of [['--models', ['--models', 's3://', '--shards', '/b']], ['--shards', ['--models', '/a', '--shards', 's3://']]] as const) {
      const wrong = run('retrain', ...args);
      assert.equal(wrong.status, 2, wrong.stderr);
      assert.match(wrong.stderr, new RegExp(`${option}: store location "s3://": not s3://BUCKET`));
    }
  });
});

describe('the trainer', () => {
  const never = Schedule.parse('0 0 1 1 *');

  it('never runs two retrainings at once: requests during a run wait, and make one run together, forced if one asked', async () => {
    const stop = new AbortController();
    const runs: Trigger[] = [];
    let running = 0;
    let most = 0;
    let release!: () => void;
    const firstRunning = new Promise<void>((resolve) => (release = resolve));
    let push!: (trigger: Trigger) => void;
    const request = (reason: string, force = false): Trigger => ({ kind: 'request', at: new Date(), force, reason });
    await runTrainer({
      schedule: never,
      log: silentLogger,
      stop: stop.signal,
      requests: async (_, pushTrigger) => {
        push = pushTrigger;
        push(request('first'));
      },
      retrain: async (trigger) => {
        runs.push(trigger);
        most = Math.max(most, ++running);
        if (runs.length === 1) {
          push(request('second'));
          push(request('third', true));
          release();
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
        running--;
        if (runs.length === 2) stop.abort();
      },
    });
    await firstRunning;
    assert.equal(most, 1);
    assert.deepEqual(runs.map((trigger) => [trigger.reason, trigger.force]), [['first', false], ['second; third', true]]);
  });

  it('resumes a run left unfinished first, alone, and hands the run under way a signal that aborts on stop', async () => {
    const stop = new AbortController();
    const seen: Array<{ runId: string | undefined; aborted: boolean }> = [];
    await runTrainer({
      schedule: never,
      log: silentLogger,
      stop: stop.signal,
      initial: [{ kind: 'unfinished', at: new Date(), force: false, reason: 'resuming a', runId: 'a' }, { kind: 'unfinished', at: new Date(), force: false, reason: 'resuming b', runId: 'b' }],
      retrain: async (trigger, signal) => {
        if (trigger.runId === 'b') stop.abort();
        seen.push({ runId: trigger.runId, aborted: signal.aborted });
      },
    });
    assert.deepEqual(seen, [{ runId: 'a', aborted: false }, { runId: 'b', aborted: true }]);
  });

  it('ends with the error of its request reader once the run under way is over, rather than go on deaf to requests', { timeout: 30_000 }, async () => {
    const stop = new AbortController();
    const finished: boolean[] = [];
    let failReading!: (error: Error) => void;
    const trainer = runTrainer({
      schedule: never,
      log: silentLogger,
      stop: stop.signal,
      requests: (_, push) => {
        push({ kind: 'request', at: new Date(), force: false, reason: 'asked' });
        return new Promise((_, reject) => (failReading = reject));
      },
      retrain: async (_, signal) => {
        failReading(new Error('schema registry unreachable'));
        await new Promise((resolve) => setTimeout(resolve, 20));
        finished.push(!signal.aborted);
      },
    });
    await assert.rejects(trainer, /reading retrain requests failed: schema registry unreachable/);
    assert.deepEqual(finished, [true], 'the run under way went to its end');
    assert.equal(stop.signal.aborted, false);
  });
});
