import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SEED_MODEL_CONFIG, SEED_NORMALIZATION } from '../../model/config.js';
import { decodeValues, encodeValues, quantization } from '../../shards/encoding.js';
import { normalizeAndCrop } from '../../stages/transforms/normalize.js';
import { refcField } from '../model/fixtures.js';

const normalization = SEED_NORMALIZATION;
const roundTrip = (values: Float32Array, encoding: 'float32' | 'float16' | 'uint8') => decodeValues(encodeValues(values, encoding, normalization, 'test row'), encoding, normalization);

describe('shard value encodings', () => {
  it('float32 gives back exactly the values it was given', () => {
    const values = Float32Array.from({ length: 1000 }, (_, i) => Math.fround(Math.sin(i) ** 2));
    assert.deepEqual(roundTrip(values, 'float32'), values);
  });

  it("float16 keeps the real REFC field's 1/16 dBZ packing step: every value rounds back to the packed one", async () => {
    const { values: raw, field } = await refcField();
    const values = normalizeAndCrop(raw, { nx: field.grid.nx, ny: field.grid.ny, southFirst: true }, normalization, SEED_MODEL_CONFIG.cropping);
    const decoded = roundTrip(values, 'float16');
    for (let i = 0; i < values.length; i++) {
      const packed = Math.round(values[i]! * 60 * 16);
      if (Math.round(decoded[i]! * 60 * 16) !== packed) assert.fail(`value ${i}: ${values[i]! * 60} dBZ came back as ${decoded[i]! * 60}`);
    }
  });

  it('uint8 gives back every value within half a step of (clipMax - clipMin) / 255, and its own codes exactly', () => {
    const { low, step } = quantization(normalization);
    assert.equal(low, 0);
    const values = Float32Array.from({ length: 10_000 }, (_, i) => Math.fround((i % 9973) / 9972));
    const decoded = roundTrip(values, 'uint8');
    for (let i = 0; i < values.length; i++) assert.ok(Math.abs(decoded[i]! - values[i]!) <= step / 2 + 1e-7, `value ${values[i]} came back as ${decoded[i]}`);
    // What uint8 decodes to (0, 1/255, ... 1) is what it encodes exactly: 0 (the clear sky) and the clip limits included.
    assert.deepEqual(roundTrip(decoded, 'uint8'), decoded);
    assert.deepEqual(Array.from(roundTrip(Float32Array.of(0, 1), 'uint8')), [0, 1]);
  });

  it('uint8 refuses a value outside the normalized range, naming the row and the index', () => {
    assert.throws(() => encodeValues(Float32Array.of(0.5, 1.5), 'uint8', normalization, 'row REFC valid 2019-09-20T05:00:00.000Z'), /row REFC valid 2019-09-20T05:00:00.000Z: value 1.5 at index 1 is outside the normalized range \[0, 1\]/);
    assert.throws(() => encodeValues(Float32Array.of(Number.NaN), 'uint8', normalization, 'row X'), /row X: value NaN at index 0/);
  });

  it('uint8 spans the normalized range of any normalization, a negative scale included', () => {
    const other = { missingValue: -10, clipMin: -10, clipMax: 70, scale: -80 };
    const values = Float32Array.of(-70 / 80, 0, 10 / 80, -0.5);
    const decoded = decodeValues(encodeValues(values, 'uint8', other, 'row'), 'uint8', other);
    for (let i = 0; i < values.length; i++) assert.ok(Math.abs(decoded[i]! - values[i]!) <= 1 / 255 / 2 + 1e-7);
  });
});
