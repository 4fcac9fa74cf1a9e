import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCommandProcess } from '../support/cli-process.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-log-level-'));
  await mkdir(join(work, 'source')); // an empty source: a missing one is refused
});
after(() => rm(work, { recursive: true, force: true }));

describe('LOG_LEVEL', () => {
  it('a level pino does not know exits 2 naming LOG_LEVEL and the levels, before anything starts', async () => {
    for (const args of [
      ['run', '--source', join(work, 'source'), '--data', join(work, 'data'), '--once'],
      ['trainer', '--schedule', '@daily', '--models', join(work, 'models'), '--shards', join(work, 'shards'), '--data', join(work, 'data')],
    ]) {
      const result = await runCommandProcess(args, { env: { LOG_LEVEL: 'verbose' } });
      assert.equal(result.status, 2, `${args[0]}: ${result.stderr}`);
      assert.match(result.stderr, /LOG_LEVEL: "verbose" is not a level: trace, debug, info, warn, error, fatal or silent/, args[0]);
    }
  });

  it('a level it knows is taken: LOG_LEVEL=silent leaves stderr empty', async () => {
    const result = await runCommandProcess(['run', '--source', join(work, 'source'), '--data', join(work, 'data'), '--once', '--device', 'cpu', '--shards', 'off', '--from', '2019-09-20T00Z', '--to', '2019-09-20T00Z'], { env: { LOG_LEVEL: 'silent' } });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr, '');
  });
});

describe('the error that ends a long-running command', () => {
  it('is logged as a JSON line with its type, message and stack, besides the one-line message', async () => {
    for (const [command, args] of [
      ['run', ['--data', '/dev/null/bus', '--state', join(work, 'state'), '--source', join(work, 'source'), '--once', '--device', 'cpu', '--shards', 'off']],
      ['trainer', ['--data', '/dev/null/bus', '--schedule', '@daily', '--models', join(work, 'models'), '--shards', join(work, 'shards'), '--device', 'cpu']],
    ] as const) {
      const result = await runCommandProcess([command, ...args]);
      assert.equal(result.status, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`^hrrr-embed ${command}: .*ENOTDIR`, 'm'));
      const logged = result.stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { level: number; msg: string; err?: { type: string; message: string; stack: string } });
      const fatal = logged.find((line) => line.err !== undefined && line.level >= 50);
      assert.ok(fatal, result.stderr);
      assert.match(fatal.msg, new RegExp(`^${command} failed: .*ENOTDIR`));
      assert.match(fatal.err!.message, /ENOTDIR/);
      assert.match(fatal.err!.stack, /\n    at /);
    }
  });
});
