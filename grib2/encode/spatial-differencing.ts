import { PRESENT } from './quantize.js';
import { bitsNeeded } from './sign-magnitude.js';

/** What template 7.3 stores ahead of the groups to undo the differencing. */
export interface ExtraDescriptors {
  /** The first present value, and for order 2 the second (0 where there is none). */
  first: number;
  second: number;
  /** The smallest difference, taken from every difference so that they are all >= 0. */
  minimum: number;
}

/**
 * Replaces the present integers, in order and skipping missing points (as decoders undo it), by
 * their differences of order 1 or 2 less the smallest of them; the first `order` present values,
 * which the descriptors carry instead, become 0.
 */
export function differenceInPlace(integers: Float64Array, missing: Uint8Array | undefined, order: 1 | 2): ExtraDescriptors {
  const present: number[] = [];
  for (let i = 0; i < integers.length; i++) if (!missing || missing[i] === PRESENT) present.push(i);

  const differences = new Float64Array(present.length);
  let minimum = Infinity;
  for (let k = order; k < present.length; k++) {
    const x = integers[present[k]!]!;
    const previous = integers[present[k - 1]!]!;
    const difference = order === 1 ? x - previous : x - 2 * previous + integers[present[k - 2]!]!;
    differences[k] = difference;
    if (difference < minimum) minimum = difference;
  }
  if (minimum === Infinity) minimum = 0;

  const descriptors = {
    first: present.length > 0 ? integers[present[0]!]! : 0,
    second: order === 2 && present.length > 1 ? integers[present[1]!]! : 0,
    minimum,
  };
  for (let k = 0; k < present.length; k++) integers[present[k]!] = k < order ? 0 : differences[k]! - minimum;
  return descriptors;
}

/** Octets per descriptor (octet 49 of template 5.3): the fewest that hold each in sign and magnitude. */
export function descriptorOctets({ first, second, minimum }: ExtraDescriptors): number {
  const magnitude = Math.max(Math.abs(first), Math.abs(second), Math.abs(minimum));
  const octets = Math.max(1, Math.ceil((bitsNeeded(magnitude) + 1) / 8));
  if (octets > 4) throw new RangeError(`spatial differencing descriptor ${magnitude} needs more than 4 octets`);
  return octets;
}
