import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { decodeValues, readFields } from '../../grib2/index.js';
import { repoRoot, sharedData } from '../paths.js';

const cli = join(repoRoot, 'dist', 'cli', 'main.js');
const file = join(sharedData, 'hrrr', 'hrrr.20221014.t01z.wrfsubhf.REFC-VBDSF.grib2');
const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));

function run(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
}

describe('hrrr-embed decode', () => {
  it('prints one JSON line per message with parameter, level, times, grid, packing and statistics', () => {
    const result = run('decode', file);
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.equal(lines.length, 2);
    const refc = lines[0];
    assert.equal(refc.inventory, '1:0:d=2022101401:REFC:entire atmosphere:15 min fcst:');
    assert.deepEqual(
      [refc.parameter.shortName, refc.parameter.discipline, refc.parameter.category, refc.parameter.number],
      ['REFC', 0, 16, 196],
    );
    assert.equal(refc.level, 'entire atmosphere');
    assert.equal(refc.referenceTime, '2022-10-14T01:00:00.000Z');
    assert.equal(refc.validTime, '2022-10-14T01:15:00.000Z');
    assert.equal(refc.gridDefinitionTemplate, 30);
    assert.deepEqual([refc.nx, refc.ny, refc.grid.DxInMetres, refc.grid.scanningMode], [1799, 1059, 3000, 64]);
    assert.equal(refc.dataRepresentationTemplate, 3);
    assert.equal(refc.packing.orderOfSpatialDifferencing, 2);
    // min, max and mean as ecCodes's grib_get prints them for this message: -10, 73, -6.50509
    assert.deepEqual([refc.numberOfPoints, refc.min, refc.max, refc.numberMissing], [1_905_141, -10, 73, 0]);
    assert.ok(Math.abs(refc.mean - -6.50509) < 1e-5);
  });

  it('--raw writes the first matching field as little-endian float32 in ecCodes order', async () => {
    const raw = join(work, 'vbdsf.f32');
    const result = run('decode', file, '--match', ':VBDSF:', '--raw', raw);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim().split('\n').length, 1);
    const written = readFileSync(raw);
    const expected = await decodeValues(readFields(readFileSync(file))[1]!);
    assert.equal(written.length, expected.length * 4);
    assert.deepEqual(new Float32Array(written.buffer, written.byteOffset, expected.length), expected);
  });

  it('a corrupt file exits 1 with the decoder error, a wrong command line exits 2 with usage', () => {
    const corrupt = join(work, 'corrupt.grib2');
    writeFileSync(corrupt, readFileSync(file).subarray(0, 5000));
    const bad = run('decode', corrupt);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /hrrr-embed decode: GRIB2 section 0 at byte 8: message declares 432197 bytes, only 5000 are there/);

    const usage = run('decode');
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /usage: hrrr-embed decode FILE/);
    assert.equal(run('decode', file, '--match', '(').status, 2);
    assert.equal(run('frobnicate').status, 2);
  });

  it('no matching field is a failure, not an empty success', () => {
    const result = run('decode', file, '--match', ':TMP:');
    assert.equal(result.status, 1);
    assert.match(result.stderr, /no field in .* matches \/:TMP:\//);
  });
});
