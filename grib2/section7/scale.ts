import type { SimplePacking } from '../section5/index.js';

/**
 * Turns packed integers X into values Y = (R + X * 2^E) / 10^D, in the order and arithmetic
 * ecCodes uses ((X * 2^E + R) * 10^-D in double precision), then rounds to float32.
 */
export function valueScaler({ referenceValue, binaryScaleFactor, decimalScaleFactor }: SimplePacking) {
  const binary = 2 ** binaryScaleFactor;
  const decimal = 10 ** -decimalScaleFactor;
  return {
    binary,
    decimal,
    reference: referenceValue,
    /** The value every point of a zero-width (constant) field takes. */
    constant: referenceValue * decimal,
  };
}

export function scaleInto(out: Float32Array, packed: ArrayLike<number>, packing: SimplePacking): void {
  const { binary, decimal, reference } = valueScaler(packing);
  for (let i = 0; i < out.length; i++) out[i] = (packed[i]! * binary + reference) * decimal;
}
