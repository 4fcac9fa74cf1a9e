import type { ComplexPackingParameters } from './complex-packing.js';
import { SectionWriter } from './section-writer.js';

const LENGTH = { 2: 47, 3: 49 } as const;
/** Octets 24-31 under missing value management: informative only (decoders read the codes in section 7). */
const MISSING_SUBSTITUTE = 9.999e20;
/** Code table 5.4: 1, general group splitting. */
const GENERAL_GROUP_SPLITTING = 1;

/** Section 5 for templates 5.2 and 5.3; the original values were floating point (code table 5.1: 0). */
export function writeDataRepresentation(numberOfValues: number, p: ComplexPackingParameters): Uint8Array {
  const section = new SectionWriter(5, LENGTH[p.template]);
  section.u32(6, numberOfValues);
  section.u16(10, p.template);
  section.f32(12, p.referenceValue);
  section.s16(16, p.binaryScaleFactor);
  section.s16(18, p.decimalScaleFactor);
  section.u8(20, p.bitsPerValue);
  section.u8(21, 0);
  section.u8(22, GENERAL_GROUP_SPLITTING);
  section.u8(23, p.missingValueManagementUsed);
  if (p.missingValueManagementUsed >= 1) section.f32(24, MISSING_SUBSTITUTE);
  if (p.missingValueManagementUsed === 2) section.f32(28, MISSING_SUBSTITUTE);
  section.u32(32, p.numberOfGroupsOfDataValues);
  section.u8(36, p.referenceForGroupWidths);
  section.u8(37, p.numberOfBitsUsedForTheGroupWidths);
  section.u32(38, p.referenceForGroupLengths);
  section.u8(42, p.lengthIncrementForTheGroupLengths);
  section.u32(43, p.trueLengthOfLastGroup);
  section.u8(47, p.numberOfBitsForScaledGroupLengths);
  if (p.template === 3) {
    section.u8(48, p.orderOfSpatialDifferencing);
    section.u8(49, p.numberOfOctetsExtraDescriptors);
  }
  return section.bytes;
}
