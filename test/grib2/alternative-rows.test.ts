import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeValues, readFields } from '../../grib2/index.js';
import { sharedData } from '../paths.js';

const file = readFileSync(join(sharedData, 'hrrr', 'hrrr.20221014.t01z.wrfsubhf.REFC-VBDSF.grib2'));
/** Message 1 of the file: REFC on the Lambert grid (template 3.30), 1799 x 1059, scanning mode 64. */
const refc = Uint8Array.from(file.subarray(0, 432197));
/** Octet 65 of section 3 (template 3.30): the scanning mode, flag table 3.4. */
const scanningAt = (() => {
  const view = new DataView(refc.buffer);
  let at = 16;
  while (refc[at + 4] !== 3) at += view.getUint32(at);
  return at + 64;
})();

/** The message with `flags` set in its scanning mode: the same stored values, walked another way. */
const withScanning = (flags: number) => {
  const copy = Uint8Array.from(refc);
  copy[scanningAt]! |= flags;
  return copy;
};

/** What ecCodes reads of a message's scanning mode. */
function eccodesScanning(message: Uint8Array): Record<string, number> {
  const script = `import sys, json, eccodes as ec
h = ec.codes_new_from_message(sys.stdin.buffer.read())
print(json.dumps({k: ec.codes_get_long(h, k) for k in ['scanningMode', 'alternativeRowScanning', 'jPointsAreConsecutive']}))`;
  return JSON.parse(execFileSync(process.env.HRRR_EMBED_ECCODES_PYTHON ?? '/usr/bin/python3', ['-c', script], { input: message }).toString()) as Record<string, number>;
}

describe('alternative row scanning (flag table 3.4, bit 4): every other row is stored the opposite way, and comes out turned back', () => {
  it('the bit set is the one ecCodes reads as alternativeRowScanning', () => {
    assert.deepEqual(eccodesScanning(withScanning(0x10)), { scanningMode: 64 | 0x10, alternativeRowScanning: 1, jPointsAreConsecutive: 0 });
  });

  for (const [flags, along] of [[0x10, 'rows of Nx points'], [0x10 | 0x20, 'columns of Ny points (j consecutive)']] as const) {
    it(`stored along ${along}: the first is as stored, the second reversed, and so on`, async () => {
      const [plain] = readFields(refc);
      const [turned] = readFields(withScanning(flags));
      const stored = await decodeValues(plain!);
      const values = await decodeValues(turned!);
      const length = flags & 0x20 ? plain!.grid.ny : plain!.grid.nx;
      const lines = stored.length / length;
      assert.ok(Number.isInteger(lines) && lines > 2);
      let differing = 0;
      for (let line = 0; line < lines; line++) {
        const expected = stored.subarray(line * length, (line + 1) * length);
        const actual = values.subarray(line * length, (line + 1) * length);
        const want = line % 2 === 0 ? expected : Float32Array.from(expected).reverse();
        assert.deepEqual(actual, want, `line ${line}`);
        if (line % 2 === 1 && !expected.every((value, i) => Object.is(value, want[i]))) differing++;
      }
      assert.ok(differing > 0, 'no odd line of the field differs from its reverse: the test proves nothing');
    });
  }
});
