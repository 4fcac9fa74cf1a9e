import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { basename } from 'node:path';
import { Grib2Error, decodeValues, readFields } from '../../grib2/index.js';
import { REAL_FILES, asEccodesKeys, eccodesReference } from '../reference/eccodes.js';

const files = await eccodesReference();

/** Fixtures ecCodes reads that the decoder refuses, with the error it must give. */
const REFUSED: Record<string, RegExp> = {
  'jpeg-bitmap-wide': /section 7 template 7\.40 .*1809161 x 1 samples: the codec reads at most 65535 a side/,
};

/** Index of the first value that differs by more than one float32 step, or -1. */
function firstMismatch(ours: Float32Array, reference: Float32Array): number {
  for (let i = 0; i < reference.length; i++) {
    const a = ours[i]!;
    const b = reference[i]!;
    if (Number.isNaN(a) || Number.isNaN(b)) {
      if (Number.isNaN(a) !== Number.isNaN(b)) return i;
    } else if (Math.abs(a - b) > Math.abs(b) * 2 ** -23) {
      return i;
    }
  }
  return -1;
}

describe('the decoder agrees with ecCodes on every key and every value', () => {
  it('covers every packing, with and without a bitmap, and the real HRRR files', () => {
    const names = new Set(files.map((file) => file.name));
    const expected = ['simple', 'complex', 'spatial', 'jpeg', 'png'].flatMap((packing) => [packing, `${packing}-bitmap`]);
    for (const name of [...expected, 'png-4bit', 'constant', 'latlon', 'accumulation', 'several']) {
      assert.ok(names.has(name), `fixture ${name} is missing`);
    }
    for (const real of REAL_FILES) assert.ok(names.has(basename(real, '.grib2')), `${real} is not compared`);
  });

  for (const [name, error] of Object.entries(REFUSED)) {
    it(`${name}: refused with a clear error`, async () => {
      const file = files.find((candidate) => candidate.name === name)!;
      const [field] = readFields(await readFile(file.path));
      await assert.rejects(decodeValues(field!), (thrown: Error) => thrown instanceof Grib2Error && error.test(thrown.message));
    });
  }

  for (const file of files.filter((candidate) => !(candidate.name in REFUSED))) {
    it(`${file.name}: keys and values equal ecCodes's`, async () => {
      const reference = await file.messages();
      const fields = readFields(await readFile(file.path));
      assert.equal(fields.length, reference.length, 'number of messages');
      for (const [index, field] of fields.entries()) {
        const expected = reference[index]!;
        const values = await decodeValues(field);
        assert.equal(values.length, expected.values.length, `message ${index}: number of values`);
        const mismatch = firstMismatch(values, expected.values);
        assert.equal(mismatch, -1, `message ${index}: value ${mismatch} is ${values[mismatch]}, ecCodes says ${expected.values[mismatch]}`);

        const ours = asEccodesKeys(field, values);
        const compared: string[] = [];
        for (const [key, value] of Object.entries(expected.keys)) {
          if (!(key in ours)) continue;
          compared.push(key);
          const actual = ours[key]!;
          if (Number.isInteger(value)) assert.equal(actual, value, `message ${index}: ${key}`);
          else assert.ok(Math.abs(actual - value) <= Math.abs(value) * 1e-9, `message ${index}: ${key} is ${actual}, ecCodes says ${value}`);
        }
        const notCompared = Object.keys(expected.keys).filter((key) => !compared.includes(key));
        assert.deepEqual(notCompared, [], `message ${index}: keys ecCodes reads that the decoder does not expose`);
      }
    });
  }
});
