import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../paths.js';

const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-demo-'));
after(() => rmSync(work, { recursive: true, force: true }));

describe('hrrr-embed demo (the main job on its embedded default)', () => {
  it('writes analyses in the bucket layout, reads only REFC by its .idx range and decodes what ecCodes decodes', () => {
    const result = spawnSync(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), 'demo', '--dir', work, '--hours', '2'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(lines.map((line) => line.key), ['hrrr.20190920/conus/hrrr.t00z.wrfsfcf00.grib2', 'hrrr.20190920/conus/hrrr.t01z.wrfsfcf00.grib2']);
    assert.deepEqual(lines.map((line) => line.validTime), ['2019-09-20T00:00:00.000Z', '2019-09-20T01:00:00.000Z']);
    for (const line of lines) {
      assert.equal(line.field, 'REFC:entire atmosphere:anl');
      assert.ok(line.bytesRead < line.objectSize, 'only the REFC message is read');
      // ecCodes, reading the whole file the demo wrote, finds the same REFC field.
      const eccodes = execFileSync('grib_get', ['-w', 'shortName=refc', '-p', 'numberOfValues,max,orderOfSpatialDifferencing', join(work, line.key)], { encoding: 'utf8' }).trim().split(/\s+/);
      assert.deepEqual(eccodes.map(Number), [line.points, line.maxDbz, 2]);
    }
  });

  it('a wrong option value exits 2 naming the option', () => {
    const result = spawnSync(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), 'demo', '--hours', 'many'], { encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--hours: many is not a whole number/);
  });
});
