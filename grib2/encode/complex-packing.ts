import { BitWriter } from './bit-writer.js';
import { describeGroups, planGroups, type GroupDescriptions, type GroupPlan } from './groups.js';
import { PRIMARY_MISSING, quantize, SECONDARY_MISSING, type MissingValueManagement, type QuantizedField } from './quantize.js';
import { descriptorOctets, differenceInPlace, type ExtraDescriptors } from './spatial-differencing.js';

interface CommonPackingOptions {
  /** D: values are stored as round((Y * 10^D - R) / 2^E). */
  decimalScaleFactor: number;
  /** E: values are stored as round((Y * 10^D - R) / 2^E). */
  binaryScaleFactor: number;
  /** Code table 5.5: 0 none (no NaN allowed), 1 NaN values are primary missing, 2 primary and secondary. */
  missingValueManagement: MissingValueManagement;
  /** Values per group (the last group holds the rest). Default 32. */
  groupLength?: number;
}

/** Data representation 5.2 (complex packing) or 5.3 (complex packing and spatial differencing). */
export type ComplexPackingOptions =
  | ({ template: 2 } & CommonPackingOptions)
  | ({ template: 3; orderOfSpatialDifferencing: 1 | 2 } & CommonPackingOptions);

/** Octets 12-49 of templates 5.2 and 5.3, as written. */
export interface ComplexPackingParameters extends Omit<GroupDescriptions, 'scaledWidths' | 'scaledLengths'> {
  template: 2 | 3;
  referenceValue: number;
  binaryScaleFactor: number;
  decimalScaleFactor: number;
  bitsPerValue: number;
  missingValueManagementUsed: MissingValueManagement;
  numberOfGroupsOfDataValues: number;
  orderOfSpatialDifferencing: number;
  numberOfOctetsExtraDescriptors: number;
}

export interface ComplexPackedField {
  parameters: ComplexPackingParameters;
  /** Section 7 from octet 6 on. */
  data: Uint8Array;
}

const DEFAULT_GROUP_LENGTH = 32;

/** Packs values (NaN for primary missing, `secondaryMissing` nonzero for secondary) by complex packing. */
export function packComplex(values: ArrayLike<number>, options: ComplexPackingOptions, secondaryMissing?: Uint8Array): ComplexPackedField {
  const management = options.missingValueManagement;
  const field = quantize(values, options, management, secondaryMissing);
  const order = options.template === 3 ? options.orderOfSpatialDifferencing : 0;
  const descriptors = options.template === 3 ? differenceInPlace(field.integers, field.missing, options.orderOfSpatialDifferencing) : undefined;
  const plan = planGroups(field.integers, field.missing, management, options.groupLength ?? DEFAULT_GROUP_LENGTH);
  const { scaledWidths, scaledLengths, ...groupDescriptions } = describeGroups(plan);
  const descriptorSize = descriptors ? descriptorOctets(descriptors) : 0;

  const bits = new BitWriter(Math.ceil((values.length * 12) / 8) + 1024);
  if (descriptors) writeDescriptors(bits, descriptors, order, descriptorSize * 8);
  bits.writeAll(plan.references, 0, plan.references.length, plan.bitsPerValue);
  bits.alignToByte();
  bits.writeAll(scaledWidths, 0, scaledWidths.length, groupDescriptions.numberOfBitsUsedForTheGroupWidths);
  bits.alignToByte();
  bits.writeAll(scaledLengths, 0, scaledLengths.length, groupDescriptions.numberOfBitsForScaledGroupLengths);
  bits.alignToByte();
  writeGroupValues(bits, field, plan);

  return {
    parameters: {
      template: options.template,
      referenceValue: field.referenceValue,
      binaryScaleFactor: options.binaryScaleFactor,
      decimalScaleFactor: options.decimalScaleFactor,
      bitsPerValue: plan.bitsPerValue,
      missingValueManagementUsed: management,
      numberOfGroupsOfDataValues: plan.lengths.length,
      ...groupDescriptions,
      orderOfSpatialDifferencing: order,
      numberOfOctetsExtraDescriptors: descriptorSize,
    },
    data: bits.toBytes(),
  };
}

function writeDescriptors(bits: BitWriter, { first, second, minimum }: ExtraDescriptors, order: number, width: number): void {
  bits.writeSigned(first, width);
  if (order === 2) bits.writeSigned(second, width);
  bits.writeSigned(minimum, width);
}

/** Each group's values less its reference in its width, back to back; missing points as all ones (less 1 for secondary). */
function writeGroupValues(bits: BitWriter, { integers, missing }: QuantizedField, plan: GroupPlan): void {
  for (let g = 0; g < plan.lengths.length; g++) {
    const width = plan.widths[g]!;
    if (width === 0) continue;
    const start = plan.starts[g]!;
    const end = start + plan.lengths[g]!;
    const reference = plan.references[g]!;
    const primary = 2 ** width - 1;
    for (let i = start; i < end; i++) {
      const kind = missing?.[i];
      bits.write(kind === PRIMARY_MISSING ? primary : kind === SECONDARY_MISSING ? primary - 1 : integers[i]! - reference, width);
    }
  }
}
