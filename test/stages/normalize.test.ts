import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { modelConfig, SEED_NORMALIZATION } from '../../model/config.js';
import { attributed, silentLogger, type StageContext } from '../../stages/stage.js';
import { createNormalizeStage, normalizeAndCrop } from '../../stages/transforms/normalize.js';
import type { DecodedField, NormalizedField } from '../../stages/types.js';
import { refcField } from '../model/fixtures.js';

const context: StageContext = { log: silentLogger, signal: new AbortController().signal };
const seed = { model: modelConfig(), normalization: SEED_NORMALIZATION };

async function normalized(decoded: DecodedField, config = seed): Promise<NormalizedField[]> {
  const out: NormalizedField[] = [];
  for await (const field of attributed(createNormalizeStage(config), decoded, context)) out.push(field);
  return out;
}

describe('normalization and crop', () => {
  // A 5 x 4 grid stored south row first; G(row, column) = values[row * 5 + column].
  const values = Float32Array.from([
    /* row 0, south */ 1, 2, 3, 4, 5,
    /* row 1 */ NaN, -10, 30, 60, 70,
    /* row 2 */ 6, 12, 18, 24, 30,
    /* row 3, north */ 7, 8, 9, 10, 11,
  ]);

  it('fills missing values with 0, clips to [0, 60] dBZ and divides by 60, exactly', () => {
    const out = normalizeAndCrop(values, { nx: 5, ny: 4, southFirst: true }, SEED_NORMALIZATION, [[1, 1], [0, 0]]);
    assert.deepEqual(Array.from(out), [0, 0, 0.5, 1, 1, 6 / 60, 12 / 60, 18 / 60, 24 / 60, 0.5].map(Math.fround));
  });

  it('crops the first rows off the southern edge and the first columns off the western one', () => {
    const out = normalizeAndCrop(values, { nx: 5, ny: 4, southFirst: true }, { missingValue: 0, clipMin: -100, clipMax: 100, scale: 1 }, [[2, 1], [1, 2]]);
    assert.deepEqual(Array.from(out), [12, 18]);
  });

  it('puts the south row first also when the grid is stored north row first', () => {
    const northFirst = Float32Array.from([...values.subarray(15, 20), ...values.subarray(10, 15), ...values.subarray(5, 10), ...values.subarray(0, 5)]);
    const scale = { missingValue: 0, clipMin: -100, clipMax: 100, scale: 1 };
    assert.deepEqual(normalizeAndCrop(northFirst, { nx: 5, ny: 4, southFirst: false }, scale, [[1, 1], [0, 1]]), normalizeAndCrop(values, { nx: 5, ny: 4, southFirst: true }, scale, [[1, 1], [0, 1]]));
  });

  it("HRRR (scanning mode 64): 1059 x 1799 becomes 1024 x 1792, image row 0 is grid row 17 from the south", async () => {
    const decoded = await refcField();
    assert.equal(decoded.field.grid.template.scanningMode, 64);
    const [field] = await normalized(decoded);
    assert.deepEqual([field!.height, field!.width, field!.values.length], [1024, 1792, 1024 * 1792]);
    const expect = (row: number, column: number) => Math.fround(Math.min(60, Math.max(0, decoded.values[(17 + row) * 1799 + 4 + column]!)) / 60);
    for (const [row, column] of [[0, 0], [0, 1791], [1023, 0], [1023, 1791], [512, 900]] as const) {
      assert.equal(field!.values[row * 1792 + column], expect(row, column), `image row ${row}, column ${column}`);
    }
    assert.ok(field!.values.every((value) => value >= 0 && value <= 1));
    assert.ok(field!.values.some((value) => value > 0.5), 'the storms are there');
  });

  it('refuses a grid the model does not take, and scanning orders it does not handle', async () => {
    const decoded = await refcField();
    const small = { ...seed, model: modelConfig({ inputHeight: 38, inputWidth: 70, cropping: [[3, 3], [3, 3]], nlayers: 2 }) };
    await assert.rejects(normalized(decoded, small), /stage normalize: the model takes 70 x 38 grids, this field is 1799 x 1059/);
    const template = { ...decoded.field.grid.template, scanningMode: 192, scanning: { ...decoded.field.grid.template.scanning, iScansNegatively: true } };
    const eastToWest = { ...decoded, field: { ...decoded.field, grid: { ...decoded.field.grid, template } } };
    await assert.rejects(normalized(eastToWest), /scanning mode 192 \(rows east to west or along columns\) is not supported/);
  });
});
