/** Per point: present, primary missing or secondary missing (the two kinds of code table 5.5). */
export const PRESENT = 0;
export const PRIMARY_MISSING = 1;
export const SECONDARY_MISSING = 2;

export type MissingValueManagement = 0 | 1 | 2;

export interface ScaleFactors {
  decimalScaleFactor: number;
  binaryScaleFactor: number;
}

/** A field as packing stores it: Y = (R + X * 2^E) / 10^D. */
export interface QuantizedField {
  /** R, a float32 no larger than the smallest present Y * 10^D. */
  referenceValue: number;
  /** X for each point, 0 where missing. */
  integers: Float64Array;
  /** PRESENT, PRIMARY_MISSING or SECONDARY_MISSING for each point; undefined under management 0. */
  missing: Uint8Array | undefined;
}

/**
 * Turns values into packed integers X = round((Y * 10^D - R) / 2^E), R the minimum of the present
 * values rounded down to float32 (the X are computed from that float32, as decoders see it).
 * NaN values are primary missing, points where `secondaryMissing` is nonzero secondary missing.
 */
export function quantize(
  values: ArrayLike<number>,
  { decimalScaleFactor, binaryScaleFactor }: ScaleFactors,
  management: MissingValueManagement,
  secondaryMissing?: Uint8Array,
): QuantizedField {
  const count = values.length;
  const missing = classifyMissing(values, management, secondaryMissing);
  const decimal = 10 ** decimalScaleFactor;
  const binary = 2 ** binaryScaleFactor;

  let minimum = Infinity;
  for (let i = 0; i < count; i++) {
    if (missing && missing[i] !== PRESENT) continue;
    const scaled = values[i]! * decimal;
    if (scaled < minimum) minimum = scaled;
  }
  const referenceValue = minimum === Infinity ? 0 : float32AtOrBelow(minimum);

  const integers = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    if (missing && missing[i] !== PRESENT) continue;
    integers[i] = Math.round((values[i]! * decimal - referenceValue) / binary);
  }
  return { referenceValue, integers, missing };
}

function classifyMissing(values: ArrayLike<number>, management: MissingValueManagement, secondaryMissing: Uint8Array | undefined): Uint8Array | undefined {
  if (secondaryMissing !== undefined) {
    if (management !== 2) throw new RangeError('secondary missing values need missing value management 2');
    if (secondaryMissing.length !== values.length) {
      throw new RangeError(`the secondary missing mask has ${secondaryMissing.length} points, the field ${values.length}`);
    }
  }
  const missing = management === 0 ? undefined : new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (secondaryMissing?.[i]) missing![i] = SECONDARY_MISSING;
    else if (Number.isNaN(value)) {
      if (!missing) throw new RangeError(`value ${i} is NaN: missing values need missing value management 1 or 2`);
      missing[i] = PRIMARY_MISSING;
    } else if (!Number.isFinite(value)) {
      throw new RangeError(`value ${i} is ${value}: only finite values can be packed`);
    }
  }
  return missing;
}

/** The largest float32 not above `x`: decoders add the float32 R, which must not exceed any value. */
function float32AtOrBelow(x: number): number {
  const rounded = Math.fround(x);
  if (!Number.isFinite(rounded)) throw new RangeError(`reference value ${x} does not fit a float32`);
  if (rounded <= x) return rounded;
  const bits = new Uint32Array(new Float32Array([rounded]).buffer);
  if (rounded > 0) bits[0] -= 1;
  else if (rounded === 0) bits[0] = 0x80000001; // -0 above a tiny negative x: the smallest negative float32
  else bits[0] += 1;
  return new Float32Array(bits.buffer)[0]!;
}
