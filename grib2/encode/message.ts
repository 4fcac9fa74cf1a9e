import { packComplex, type ComplexPackingOptions, type ComplexPackingParameters } from './complex-packing.js';
import { writeIdentification, type IdentificationOptions } from './section1.js';
import { gridPoints, writeGridDefinition, type GridOptions } from './section3.js';
import { writeProductDefinition, type ProductOptions } from './section4.js';
import { writeDataRepresentation } from './section5.js';
import { SectionWriter } from './section-writer.js';

export interface Grib2MessageOptions {
  /** Code table 0.0: 0 meteorological products. */
  discipline: number;
  identification: IdentificationOptions;
  grid: GridOptions;
  product: ProductOptions;
  packing: ComplexPackingOptions;
  /** One value per grid point in the grid's scanning order; NaN is missing (primary). */
  values: ArrayLike<number>;
  /** Nonzero where a point is secondary missing (missing value management 2 only). */
  secondaryMissing?: Uint8Array;
}

export interface EncodedMessage {
  bytes: Uint8Array;
  /** Section 5 as written: the reference value, bits per value, groups... */
  packing: ComplexPackingParameters;
}

const INDICATOR_LENGTH = 16;
const EDITION = 2;
const NO_BITMAP = 255;

/** One whole GRIB2 message (sections 0 to 8) holding one field, without a bitmap. */
export function encodeGrib2Message(options: Grib2MessageOptions): Uint8Array {
  return encodeGrib2MessageWithPacking(options).bytes;
}

/** encodeGrib2Message, also giving the section 5 parameters it chose. */
export function encodeGrib2MessageWithPacking(options: Grib2MessageOptions): EncodedMessage {
  const points = gridPoints(options.grid);
  if (options.values.length !== points) {
    throw new RangeError(`${options.values.length} values for a grid of ${points} points`);
  }
  const { parameters, data } = packComplex(options.values, options.packing, options.secondaryMissing);
  const bitmap = new SectionWriter(6, 6);
  bitmap.u8(6, NO_BITMAP);
  const dataSection = new SectionWriter(7, 5 + data.length);
  dataSection.set(6, data);

  const sections = [
    writeIdentification(options.identification),
    writeGridDefinition(options.grid),
    writeProductDefinition(options.product),
    writeDataRepresentation(points, parameters),
    bitmap.bytes,
    dataSection.bytes,
    new TextEncoder().encode('7777'),
  ];
  const length = INDICATOR_LENGTH + sections.reduce((total, section) => total + section.length, 0);
  const message = new Uint8Array(length);
  message.set(writeIndicator(options.discipline, length));
  let at = INDICATOR_LENGTH;
  for (const section of sections) {
    message.set(section, at);
    at += section.length;
  }
  return { bytes: message, packing: parameters };
}

/** Section 0: "GRIB", two reserved octets, discipline, edition and the message length. */
function writeIndicator(discipline: number, length: number): Uint8Array {
  const bytes = new Uint8Array(INDICATOR_LENGTH);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode('GRIB'));
  if (!Number.isInteger(discipline) || discipline < 0 || discipline > 255) throw new RangeError(`discipline ${discipline} is not an octet`);
  view.setUint8(6, discipline);
  view.setUint8(7, EDITION);
  view.setUint32(8, Math.floor(length / 2 ** 32));
  view.setUint32(12, length % 2 ** 32);
  return bytes;
}
