import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot, sharedData } from '../paths.js';

describe('npm run bench -- compaction', () => {
  it('measures each --latency-ms on shards of its own: a latency given twice reads the same 24 hourly shards twice, not the first pass\'s leftovers too', () => {
    const result = spawnSync(process.execPath, [join(repoRoot, 'dist', 'bench', 'main.js'), 'compaction', '--days', '1', '--latency-ms', '0,0'], {
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, HRRR_EMBED_SHARED_DATA: sharedData, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    assert.equal(result.status, 0, result.stderr);
    const rows = result.stdout.split('\n').filter((line) => /^\| \d+ ms \|/.test(line)).map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
    assert.deepEqual(rows.map(([latency, shards, objects, requests]) => [latency, shards, objects, requests]), [
      ['0 ms', 'hourly', '48', '49'],
      ['0 ms', 'daily', '2', '3'],
      ['0 ms', 'hourly', '48', '49'],
      ['0 ms', 'daily', '2', '3'],
    ]);
  });
});
