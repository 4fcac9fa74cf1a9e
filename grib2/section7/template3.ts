import { BitReader } from '../bits.js';
import type { SectionOctets } from '../octets.js';
import type { ComplexPacking } from '../section5/index.js';
import { valueScaler } from './scale.js';

interface Groups {
  references: Float64Array;
  /** Float64, not Int32: a width read from 32 bits may be 2^31 or more, which an Int32Array would wrap to a negative width. */
  widths: Float64Array;
  lengths: Float64Array;
  /** The widest group, in bits. */
  maxWidth: number;
}

/**
 * Data templates 7.2 and 7.3: complex packing, with spatial differencing of order 1 or 2 for 7.3
 * (the HRRR packing). Missing values (primary or secondary) come out as NaN.
 */
export function unpackComplex(data: Uint8Array, count: number, packing: ComplexPacking, section7: SectionOctets): Float32Array {
  const reader = new BitReader(data);
  const order = packing.orderOfSpatialDifferencing;
  const descriptors = readExtraDescriptors(reader, packing, section7);
  const groups = readGroups(reader, count, packing, section7);

  const missing = packing.missingValueManagementUsed === 0 ? undefined : new Uint8Array(count);
  if (!missing && order === 2 && count >= 2 && groups.maxWidth <= MAX_FUSED_WIDTH) {
    return readUndoAndScale(reader, groups, count, descriptors, packing);
  }
  const packed = new Float64Array(count);
  readGroupValues(reader, groups, packing, packed, missing, section7);

  const present = missing ? compactPresent(packed, missing) : count;
  if (order > 0) undoSpatialDifferencing(packed, present, order, descriptors);
  return scaleWithMissing(packed, missing, count, packing);
}

interface ExtraDescriptors {
  first: number;
  second: number;
  minimum: number;
}

function readExtraDescriptors(reader: BitReader, packing: ComplexPacking, section7: SectionOctets): ExtraDescriptors {
  const descriptors = { first: 0, second: 0, minimum: 0 };
  const order = packing.orderOfSpatialDifferencing;
  const width = packing.numberOfOctetsExtraDescriptors * 8;
  if (order === 0 || width === 0) return descriptors;
  if ((order + 1) * width > reader.bitLength) {
    throw section7.fail('truncated', 'section 7 is too short for the spatial differencing descriptors', 6);
  }
  descriptors.first = reader.readSigned(width);
  if (order === 2) descriptors.second = reader.readSigned(width);
  descriptors.minimum = reader.readSigned(width);
  return descriptors;
}

function readGroups(reader: BitReader, count: number, packing: ComplexPacking, section7: SectionOctets): Groups {
  const ng = packing.numberOfGroupsOfDataValues;
  if (ng > count || (ng === 0 && count > 0)) {
    throw section7.fail('bad-value', `${ng} groups cannot hold ${count} values`, 6);
  }
  const headerBits =
    Math.ceil((ng * packing.bitsPerValue) / 8) * 8 +
    Math.ceil((ng * packing.numberOfBitsUsedForTheGroupWidths) / 8) * 8 +
    Math.ceil((ng * packing.numberOfBitsForScaledGroupLengths) / 8) * 8;
  if (reader.position + headerBits > reader.bitLength) {
    throw section7.fail('truncated', `section 7 is too short for the descriptions of ${ng} groups`, 6);
  }
  const references = new Float64Array(ng);
  reader.readInto(references, 0, ng, packing.bitsPerValue, 0);
  reader.alignToByte();

  const widths = new Float64Array(ng);
  reader.readInto(widths, 0, ng, packing.numberOfBitsUsedForTheGroupWidths, packing.referenceForGroupWidths);
  reader.alignToByte();

  const lengths = new Float64Array(ng);
  reader.readInto(lengths, 0, ng, packing.numberOfBitsForScaledGroupLengths, 0);
  reader.alignToByte();
  const increment = packing.lengthIncrementForTheGroupLengths;
  for (let g = 0; g < ng; g++) lengths[g] = packing.referenceForGroupLengths + lengths[g]! * increment;
  if (ng > 0) lengths[ng - 1] = packing.trueLengthOfLastGroup;

  let total = 0;
  let bits = 0;
  let maxWidth = 0;
  for (let g = 0; g < ng; g++) {
    if (widths[g]! > maxWidth) maxWidth = widths[g]!;
    if (widths[g]! > 32) {
      throw section7.fail('bad-bit-width', `group ${g} is ${widths[g]} bits wide: at most 32 are possible`, 6);
    }
    total += lengths[g]!;
    bits += lengths[g]! * widths[g]!;
  }
  if (total !== count) {
    throw section7.fail('bad-value', `the ${ng} group lengths add up to ${total} values, section 5 declares ${count}`, 6);
  }
  if (reader.position + bits > reader.bitLength) {
    throw section7.fail('truncated', `the groups need ${Math.ceil((reader.position + bits) / 8)} octets of data, the section holds ${reader.bitLength / 8}`, 6);
  }
  return { references, widths, lengths, maxWidth };
}

function readGroupValues(
  reader: BitReader,
  { references, widths, lengths }: Groups,
  packing: ComplexPacking,
  packed: Float64Array,
  missing: Uint8Array | undefined,
  section7: SectionOctets,
): void {
  let at = 0;
  if (!missing) {
    for (let g = 0; g < references.length; g++) {
      reader.readInto(packed, at, lengths[g]!, widths[g]!, references[g]!);
      at += lengths[g]!;
    }
    return;
  }
  const secondary = packing.missingValueManagementUsed === 2;
  const missingReference = 2 ** packing.bitsPerValue - 1;
  for (let g = 0; g < references.length; g++) {
    const length = lengths[g]!;
    const width = widths[g]!;
    const reference = references[g]!;
    if (width === 0) {
      // A constant group: its reference itself says whether the whole group is missing.
      const mark = reference === missingReference ? 1 : secondary && reference === missingReference - 1 ? 2 : 0;
      packed.fill(reference, at, at + length);
      missing.fill(mark, at, at + length);
    } else {
      reader.readInto(packed, at, length, width, 0);
      const primary = 2 ** width - 1;
      for (let i = at; i < at + length; i++) {
        const raw = packed[i]!;
        if (raw === primary) missing[i] = 1;
        else if (secondary && raw === primary - 1) missing[i] = 2;
        else packed[i] = raw + reference;
      }
    }
    at += length;
  }
  if (at !== packed.length) throw section7.fail('bad-value', 'group lengths do not cover the values', 6);
}

/** Moves the present values to the front (spatial differencing runs over them alone); returns their count. */
function compactPresent(packed: Float64Array, missing: Uint8Array): number {
  let present = 0;
  for (let i = 0; i < packed.length; i++) if (missing[i] === 0) packed[present++] = packed[i]!;
  return present;
}

function undoSpatialDifferencing(packed: Float64Array, present: number, order: number, d: ExtraDescriptors): void {
  if (present === 0) return;
  const minimum = d.minimum;
  if (order === 1) {
    packed[0] = d.first;
    for (let i = 1; i < present; i++) packed[i] = packed[i]! + minimum + packed[i - 1]!;
    return;
  }
  packed[0] = d.first;
  if (present === 1) return;
  packed[1] = d.second;
  // Second differences summed twice, into the first difference then the value: the same integers
  // as value = diff + minimum + 2 * previous - beforePrevious (exact below 2^53), but two chains of
  // one addition each instead of one chain of three operations.
  let delta = d.second - d.first;
  let value = d.second;
  for (let i = 2; i < present; i++) {
    delta += packed[i]! + minimum;
    value += delta;
    packed[i] = value;
  }
}

function scaleWithMissing(packed: Float64Array, missing: Uint8Array | undefined, count: number, packing: ComplexPacking): Float32Array {
  const { binary, decimal, reference } = valueScaler(packing);
  const out = new Float32Array(count);
  if (!missing) {
    for (let i = 0; i < count; i++) out[i] = (packed[i]! * binary + reference) * decimal;
    return out;
  }
  // Present values were compacted to the front: spread them back among the missing ones.
  let next = 0;
  for (let i = 0; i < count; i++) {
    out[i] = missing[i] === 0 ? (packed[next++]! * binary + reference) * decimal : Number.NaN;
  }
  return out;
}

/** Widths up to which any value lies within one 32-bit window read at its first octet. */
const MAX_FUSED_WIDTH = 25;

/**
 * Order 2 without missing values (HRRR's packing), groups at most 25 bits wide: reads each
 * group's values, undoes the differencing and scales, in one pass straight into the output,
 * with no intermediate array. The same arithmetic as readGroupValues + undoSpatialDifferencing +
 * scaleWithMissing, so the same float32 values.
 */
function readUndoAndScale(reader: BitReader, { references, widths, lengths }: Groups, count: number, d: ExtraDescriptors, packing: ComplexPacking): Float32Array {
  const { binary, decimal, reference } = valueScaler(packing);
  const out = new Float32Array(count);
  const bytes = reader.paddedBytes;
  const minimum = d.minimum;
  let position = reader.position;
  // Values 0 and 1 are the descriptors: their packed differences are read past, unused.
  out[0] = (d.first * binary + reference) * decimal;
  out[1] = (d.second * binary + reference) * decimal;
  let value = d.second;
  let delta = d.second - d.first;
  let i = 0;
  for (let g = 0; g < references.length; g++) {
    const width = widths[g]!;
    const end = i + lengths[g]!;
    if (i < 2) {
      const skip = Math.min(end, 2) - i;
      position += skip * width;
      i += skip;
    }
    const base = references[g]! + minimum;
    if (width === 0) {
      for (; i < end; i++) {
        delta += base;
        value += delta;
        out[i] = (value * binary + reference) * decimal;
      }
      continue;
    }
    const drop = 32 - width;
    for (; i < end; i++) {
      const at = position >>> 3;
      const window = (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
      delta += ((window << (position & 7)) >>> drop) + base;
      position += width;
      value += delta;
      out[i] = (value * binary + reference) * decimal;
    }
  }
  reader.position = position;
  return out;
}
