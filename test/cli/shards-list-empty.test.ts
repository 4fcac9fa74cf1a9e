import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../paths.js';

const cli = join(repoRoot, 'dist', 'cli', 'main.js');
const folder = await mkdtemp(join(tmpdir(), 'hrrr-embed-shards-empty-'));
after(() => rm(folder, { recursive: true, force: true }));

describe('shards list where there are none', () => {
  it('prints nothing, exits 0, and says on stderr which store, prefix and field it looked in, and where shards come from', () => {
    const result = spawnSync(process.execPath, [cli, 'shards', 'list', '--store', folder, '--field', 'TMP:2 m above ground:anl'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, '');
    const warning = JSON.parse(result.stderr.trim().split('\n').at(-1)!) as { level: number; msg: string };
    assert.equal(warning.level, 40);
    assert.ok(warning.msg.includes(`${pathToFileURL(folder).href}`), warning.msg);
    assert.match(warning.msg, /no complete shards of "TMP:2 m above ground:anl" under .*shards\//);
    assert.match(warning.msg, /--shards/);
  });
});
