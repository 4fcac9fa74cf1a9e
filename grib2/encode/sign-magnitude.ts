/**
 * GRIB2's signed integers: the top bit of the field is the sign, the others the magnitude
 * (not two's complement). Returns the unsigned integer to store in `bits` bits.
 */
export function signMagnitude(value: number, bits: number): number {
  const limit = 2 ** (bits - 1);
  if (!Number.isInteger(value) || Math.abs(value) >= limit) {
    throw new RangeError(`${value} does not fit a ${bits}-bit sign-and-magnitude integer`);
  }
  return value < 0 ? limit - value : value;
}

/** Bits needed to write the unsigned integer `value` (0 for 0). */
export function bitsNeeded(value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${value} is not an unsigned integer`);
  let bits = 0;
  for (let rest = value; rest >= 1; rest = Math.floor(rest / 2)) bits++;
  return bits;
}
