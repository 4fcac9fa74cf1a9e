import { PRESENT, PRIMARY_MISSING, SECONDARY_MISSING, type MissingValueManagement } from './quantize.js';
import { bitsNeeded } from './sign-magnitude.js';

/** How complex packing splits the integers: per group its start, length, reference and width. */
export interface GroupPlan {
  starts: Int32Array;
  lengths: Int32Array;
  /** The smallest present value of the group, or the missing code of an all-missing constant group. */
  references: Float64Array;
  /** Bits per value of the group; 0 for a constant group. */
  widths: Int32Array;
  /** Octet 20: bits of each group reference. */
  bitsPerValue: number;
}

/** The widest group or reference our decoder and ecCodes read. */
const MAX_BITS = 32;

/**
 * Splits the integers into groups of `groupLength` (the last one shorter) and gives each the
 * smallest reference and width that hold it. Under missing value management the codes all ones
 * (primary) and all ones less 1 (secondary) are reserved in every group width and in the group
 * references, so a real value or reference never reads as missing.
 */
export function planGroups(integers: Float64Array, missing: Uint8Array | undefined, management: MissingValueManagement, groupLength: number): GroupPlan {
  if (!Number.isInteger(groupLength) || groupLength < 1) throw new RangeError(`group length ${groupLength} is not a positive integer`);
  const count = integers.length;
  const ng = Math.ceil(count / groupLength);
  const plan: GroupPlan = {
    starts: new Int32Array(ng),
    lengths: new Int32Array(ng),
    references: new Float64Array(ng),
    widths: new Int32Array(ng),
    bitsPerValue: 0,
  };
  const allMissingKind = new Uint8Array(ng);
  let largestReference = 0;
  for (let g = 0; g < ng; g++) {
    const start = g * groupLength;
    const end = Math.min(start + groupLength, count);
    plan.starts[g] = start;
    plan.lengths[g] = end - start;
    const { minimum, maximum, primary, secondary } = surveyGroup(integers, missing, start, end);
    const anyMissing = primary || secondary;
    if (minimum === Infinity && !(primary && secondary)) {
      allMissingKind[g] = primary ? PRIMARY_MISSING : SECONDARY_MISSING;
      continue;
    }
    const reference = minimum === Infinity ? 0 : minimum;
    const range = minimum === Infinity ? 0 : maximum - minimum;
    plan.references[g] = reference;
    plan.widths[g] = range === 0 && !anyMissing ? 0 : bitsNeeded(range + management);
    if (plan.widths[g]! > MAX_BITS) throw new RangeError(`group ${g} needs ${plan.widths[g]} bits, at most ${MAX_BITS} are possible`);
    largestReference = Math.max(largestReference, reference);
  }
  plan.bitsPerValue = bitsNeeded(largestReference + management);
  if (plan.bitsPerValue > MAX_BITS) throw new RangeError(`group references need ${plan.bitsPerValue} bits, at most ${MAX_BITS} are possible`);
  const allOnes = 2 ** plan.bitsPerValue - 1;
  for (let g = 0; g < ng; g++) {
    if (allMissingKind[g] === PRIMARY_MISSING) plan.references[g] = allOnes;
    else if (allMissingKind[g] === SECONDARY_MISSING) plan.references[g] = allOnes - 1;
  }
  return plan;
}

function surveyGroup(integers: Float64Array, missing: Uint8Array | undefined, start: number, end: number) {
  let minimum = Infinity;
  let maximum = -Infinity;
  let primary = false;
  let secondary = false;
  for (let i = start; i < end; i++) {
    const kind = missing ? missing[i]! : PRESENT;
    if (kind === PRIMARY_MISSING) primary = true;
    else if (kind === SECONDARY_MISSING) secondary = true;
    else {
      const x = integers[i]!;
      if (x < minimum) minimum = x;
      if (x > maximum) maximum = x;
    }
  }
  return { minimum, maximum, primary, secondary };
}

/** Octets 36-47: group widths and lengths as a reference plus scaled values of the fewest bits. */
export interface GroupDescriptions {
  referenceForGroupWidths: number;
  numberOfBitsUsedForTheGroupWidths: number;
  referenceForGroupLengths: number;
  lengthIncrementForTheGroupLengths: number;
  trueLengthOfLastGroup: number;
  numberOfBitsForScaledGroupLengths: number;
  /** Per group: width less its reference, and (length - reference) / increment (0 for the last group, whose true length octets 43-46 give). */
  scaledWidths: Int32Array;
  scaledLengths: Int32Array;
}

export function describeGroups({ widths, lengths }: GroupPlan): GroupDescriptions {
  const ng = widths.length;
  const referenceForGroupWidths = ng > 0 ? smallest(widths) : 0;
  const scaledWidths = widths.map((width) => width - referenceForGroupWidths);

  const leading = lengths.subarray(0, Math.max(ng - 1, 0));
  const referenceForGroupLengths = leading.length > 0 ? smallest(leading) : (lengths[0] ?? 0);
  let increment = 0;
  for (const length of leading) increment = gcd(increment, length - referenceForGroupLengths);
  const lengthIncrementForTheGroupLengths = Math.max(increment, 1);
  const scaledLengths = new Int32Array(ng);
  leading.forEach((length, g) => (scaledLengths[g] = (length - referenceForGroupLengths) / lengthIncrementForTheGroupLengths));

  return {
    referenceForGroupWidths,
    numberOfBitsUsedForTheGroupWidths: bitsNeeded(largest(scaledWidths)),
    referenceForGroupLengths,
    lengthIncrementForTheGroupLengths,
    trueLengthOfLastGroup: lengths[ng - 1] ?? 0,
    numberOfBitsForScaledGroupLengths: bitsNeeded(largest(scaledLengths)),
    scaledWidths,
    scaledLengths,
  };
}

// Loops, not Math.min(...): a full HRRR grid has some 60,000 groups, too many arguments for a call.
function smallest(values: Int32Array): number {
  let minimum = Infinity;
  for (const value of values) minimum = Math.min(minimum, value);
  return minimum;
}

function largest(values: Int32Array): number {
  let maximum = 0;
  for (const value of values) maximum = Math.max(maximum, value);
  return maximum;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
