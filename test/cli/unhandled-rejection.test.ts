import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../paths.js';
import { runCommandProcess } from '../support/cli-process.js';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-rejection-'));
  await mkdir(join(work, 'source')); // an empty source: a missing one is refused
});
after(() => rm(work, { recursive: true, force: true }));

const preload = pathToFileURL(join(repoRoot, 'dist', 'test', 'support', 'reject-on-signal.js')).href;

describe('an unhandled promise rejection in a running consumer', () => {
  for (const device of ['cpu', 'wasm']) {
    it(`ends it with the error in its JSON log and exit status 1, on the ${device} backend`, { timeout: 60_000 }, async () => {
      let signalled = false;
      const result = await runCommandProcess(['run', '--source', join(work, 'source'), '--data', join(work, `data-${device}`), '--device', device, '--shards', 'off', '--from', '2019-09-20T00Z', '--poll-seconds', '1'], {
        env: { NODE_OPTIONS: `--import=${preload}` },
        onStderr: (text: string, child: ChildProcess) => {
          // Once the backend is loaded and the encoder started.
          if (signalled || !text.includes('"msg":"encoder"')) return;
          signalled = true;
          child.kill('SIGUSR2');
        },
      });
      assert.ok(signalled, result.stderr);
      assert.equal(result.status, 1, result.stderr);
      const ending = result.stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line)).at(-1);
      assert.equal(ending?.level, 50, result.stderr);
      assert.equal(ending.msg, 'run failed: unhandled promise rejection: a rejection nobody handles');
      assert.equal(ending.err.message, 'a rejection nobody handles');
    });
  }
});
