import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot, sharedData } from '../paths.js';

describe('npm run bench -- shards', () => {
  it('refuses a field other than REFC: its values, clipped to the seed normalization\'s 0..60 dBZ, would all be one, and every figure of the table empty', () => {
    const file = join(sharedData, 'hrrr', 'hrrr.t06z.wrfsfcf01-TMP.grib2');
    const result = spawnSync(process.execPath, [join(repoRoot, 'dist', 'bench', 'main.js'), 'shards', file, '--match', 'TMP', '--rows', '1'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(result.status, 2, result.stdout + result.stderr);
    assert.match(result.stderr, /^bench shards: .*TMP.*REFC/);
    assert.equal(result.stdout, '');
  });
});
