import type { SectionOctets } from '../octets.js';

/** Octets 12-21, shared by every data representation template here (5.0, 5.2, 5.3, 5.40, 5.41). */
export interface SimplePacking {
  /** R, the reference value (IEEE float32). */
  referenceValue: number;
  /** E: values are (R + X * 2^E) / 10^D. */
  binaryScaleFactor: number;
  /** D: values are (R + X * 2^E) / 10^D. */
  decimalScaleFactor: number;
  bitsPerValue: number;
  typeOfOriginalFieldValues: number;
}

/** Template 5.2 (complex packing) beyond 5.0: values packed in groups of their own widths. */
export interface ComplexPacking extends SimplePacking {
  groupSplittingMethodUsed: number;
  /** 0: none; 1: primary missing values; 2: primary and secondary missing values. */
  missingValueManagementUsed: number;
  primaryMissingValueSubstitute: number;
  secondaryMissingValueSubstitute: number;
  numberOfGroupsOfDataValues: number;
  referenceForGroupWidths: number;
  numberOfBitsUsedForTheGroupWidths: number;
  referenceForGroupLengths: number;
  lengthIncrementForTheGroupLengths: number;
  trueLengthOfLastGroup: number;
  numberOfBitsForScaledGroupLengths: number;
  /** 0 for template 5.2; 1 or 2 for template 5.3 (0 too, as ecCodes writes it). */
  orderOfSpatialDifferencing: number;
  numberOfOctetsExtraDescriptors: number;
}

/** Template 5.40 beyond 5.0: a JPEG 2000 code stream. */
export interface Jpeg2000Packing extends SimplePacking {
  typeOfCompressionUsed: number;
  targetCompressionRatio: number;
}

export type Packing =
  | ({ template: 0 } & SimplePacking)
  | ({ template: 2 | 3 } & ComplexPacking)
  | ({ template: 40 } & Jpeg2000Packing)
  | ({ template: 41 } & SimplePacking);

/** Section 5, the data representation: how section 7 packs the values. */
export interface DataRepresentation {
  /** Values packed in section 7: the grid's points less those the bitmap marks absent. */
  numberOfValues: number;
  dataRepresentationTemplateNumber: number;
  packing: Packing;
}

const MAX_BITS = 32;

function readSimplePacking(octets: SectionOctets): SimplePacking {
  const packing = {
    referenceValue: octets.f32(12),
    binaryScaleFactor: octets.s16(16),
    decimalScaleFactor: octets.s16(18),
    bitsPerValue: octets.u8(20),
    typeOfOriginalFieldValues: octets.u8(21),
  };
  requireBitWidth(octets, packing.bitsPerValue, 20, 'bits per value');
  if (!Number.isFinite(packing.referenceValue)) {
    throw octets.fail('bad-value', `reference value ${packing.referenceValue} is not a finite number`, 12);
  }
  return packing;
}

function readComplexPacking(octets: SectionOctets, template: 2 | 3): ComplexPacking {
  const packing: ComplexPacking = {
    ...readSimplePacking(octets),
    groupSplittingMethodUsed: octets.u8(22),
    missingValueManagementUsed: octets.u8(23),
    primaryMissingValueSubstitute: octets.u32(24),
    secondaryMissingValueSubstitute: octets.u32(28),
    numberOfGroupsOfDataValues: octets.u32(32),
    referenceForGroupWidths: octets.u8(36),
    numberOfBitsUsedForTheGroupWidths: octets.u8(37),
    referenceForGroupLengths: octets.u32(38),
    lengthIncrementForTheGroupLengths: octets.u8(42),
    trueLengthOfLastGroup: octets.u32(43),
    numberOfBitsForScaledGroupLengths: octets.u8(47),
    orderOfSpatialDifferencing: template === 3 ? octets.u8(48) : 0,
    numberOfOctetsExtraDescriptors: template === 3 ? octets.u8(49) : 0,
  };
  if (packing.missingValueManagementUsed > 2) {
    throw octets.fail('bad-value', `missing value management ${packing.missingValueManagementUsed} is not 0, 1 or 2`, 23);
  }
  requireBitWidth(octets, packing.numberOfBitsUsedForTheGroupWidths, 37, 'bits for group widths');
  requireBitWidth(octets, packing.numberOfBitsForScaledGroupLengths, 47, 'bits for group lengths');
  if (template === 3) {
    // ecCodes writes template 5.3 with order 0 (no differencing) and reads it back: so do we.
    if (packing.orderOfSpatialDifferencing > 2) {
      throw octets.fail('bad-value', `order of spatial differencing ${packing.orderOfSpatialDifferencing} is not 0, 1 or 2`, 48);
    }
    if (packing.numberOfOctetsExtraDescriptors > 4) {
      throw octets.fail('bad-bit-width', `${packing.numberOfOctetsExtraDescriptors} octets of extra descriptors: at most 4 are possible`, 49);
    }
  }
  return packing;
}

function requireBitWidth(octets: SectionOctets, bits: number, octet: number, what: string): void {
  if (bits > MAX_BITS) throw octets.fail('bad-bit-width', `${bits} ${what}: at most ${MAX_BITS} are possible`, octet);
}

export function readDataRepresentation(octets: SectionOctets): DataRepresentation {
  const numberOfValues = octets.u32(6);
  const dataRepresentationTemplateNumber = octets.u16(10);
  octets.template = dataRepresentationTemplateNumber;
  let packing: Packing;
  switch (dataRepresentationTemplateNumber) {
    case 0:
    case 41:
      packing = { template: dataRepresentationTemplateNumber, ...readSimplePacking(octets) };
      break;
    case 2:
    case 3:
      packing = { template: dataRepresentationTemplateNumber, ...readComplexPacking(octets, dataRepresentationTemplateNumber) };
      break;
    case 40:
      packing = {
        template: 40,
        ...readSimplePacking(octets),
        typeOfCompressionUsed: octets.u8(22),
        targetCompressionRatio: octets.u8(23),
      };
      break;
    default:
      throw octets.fail('unsupported-template', 'only data representation templates 5.0, 5.2, 5.3, 5.40 and 5.41 are supported', 10);
  }
  return { numberOfValues, dataRepresentationTemplateNumber, packing };
}
