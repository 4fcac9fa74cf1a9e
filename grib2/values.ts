import type { Grib2Field } from './message.js';
import { SectionOctets } from './octets.js';
import { unpackSimple } from './section7/template0.js';
import { unpackComplex } from './section7/template3.js';
import { unpackJpeg2000 } from './section7/template40.js';
import { unpackPng } from './section7/template41.js';

/** Section 7 of more than this many octets would overflow the bit reader's 32-bit positions. */
const MAX_DATA_OCTETS = 2 ** 28;

/**
 * Unpacks a field's values, one per grid point, NaN where the bitmap or the missing-value
 * management says none. The order is ecCodes's: as stored (see the scanning mode), except that
 * boustrophedonic rows (alternative row scanning) are turned to run the way the first row runs.
 */
export async function decodeValues(field: Grib2Field): Promise<Float32Array> {
  const { bytes, dataSection, bitmapStart } = field.packed;
  const section7 = new SectionOctets(bytes, dataSection.start, dataSection.length, 7, field.representation.dataRepresentationTemplateNumber);
  if (dataSection.length > MAX_DATA_OCTETS) {
    throw section7.fail('unsupported-template', `section 7 of ${dataSection.length} octets is larger than the ${MAX_DATA_OCTETS} supported`);
  }
  const data = bytes.subarray(dataSection.start + 5, dataSection.start + dataSection.length);
  const { packing, numberOfValues } = field.representation;
  let packed: Float32Array;
  switch (packing.template) {
    case 0:
      packed = unpackSimple(data, numberOfValues, packing, section7);
      break;
    case 2:
    case 3:
      packed = unpackComplex(data, numberOfValues, packing, section7);
      break;
    case 40:
      packed = await unpackJpeg2000(data, numberOfValues, packing, section7);
      break;
    case 41:
      packed = unpackPng(data, numberOfValues, packing, section7);
      break;
  }
  const values = bitmapStart === undefined ? packed : spreadOverBitmap(packed, bytes, bitmapStart, field, section7);
  if (field.grid.template.scanning.alternativeRowScanning) unturnAlternateRows(values, field);
  return values;
}

function spreadOverBitmap(packed: Float32Array, bytes: Uint8Array, bitmapStart: number, field: Grib2Field, section7: SectionOctets): Float32Array {
  const points = field.grid.numberOfDataPoints;
  const present = countPresent(bytes, bitmapStart, points);
  if (present !== packed.length) {
    throw section7.fail('bad-value', `the bitmap marks ${present} points present, section 5 packs ${packed.length} values`);
  }
  const values = new Float32Array(points);
  for (let p = 0, next = 0; p < points; p++) {
    values[p] = (bytes[bitmapStart + (p >>> 3)]! >>> (7 - (p & 7))) & 1 ? packed[next++]! : Number.NaN;
  }
  return values;
}

function countPresent(bytes: Uint8Array, bitmapStart: number, points: number): number {
  let present = 0;
  for (let p = 0; p < points; p++) present += (bytes[bitmapStart + (p >>> 3)]! >>> (7 - (p & 7))) & 1;
  return present;
}

function unturnAlternateRows(values: Float32Array, field: Grib2Field): void {
  const { nx, ny, template } = field.grid;
  const [rowLength, rows] = template.scanning.jPointsAreConsecutive ? [ny, nx] : [nx, ny];
  for (let row = 1; row < rows; row += 2) values.subarray(row * rowLength, (row + 1) * rowLength).reverse();
}
