import { Grib2Error } from './errors.js';
import { SectionOctets } from './octets.js';
import { parameterName, type ParameterName } from './parameters.js';
import { readIdentification, type Identification } from './section1.js';
import { readGridDefinition, type GridDefinition } from './section3/index.js';
import { readProductDefinition, type ProductDefinition } from './section4/index.js';
import { readDataRepresentation, type DataRepresentation } from './section5/index.js';

/** Where a field's bitmap (section 6) and packed data (section 7) lie in the input. */
export interface PackedSections {
  bytes: Uint8Array;
  /** Section 7: offset of its first octet in `bytes`, and its length. */
  dataSection: { start: number; length: number };
  /** Offset in `bytes` of the first bitmap octet, when a bitmap applies. */
  bitmapStart: number | undefined;
}

export interface Parameter extends ParameterName {
  discipline: number;
  category: number;
  number: number;
}

/** One field of a GRIB2 message: everything but the values, which `decodeValues` unpacks. */
export interface Grib2Field {
  /** The message this field belongs to: byte offset in the input, length, 0-based index, and how many fields it holds. */
  message: { offset: number; length: number; index: number; fieldCount: number };
  /** 0-based index of the field within its message (sections 2 to 7 may repeat). */
  fieldIndex: number;
  discipline: number;
  identification: Identification;
  parameter: Parameter;
  grid: GridDefinition;
  product: ProductDefinition;
  representation: DataRepresentation;
  /** Code table 6.0: 0 a bitmap follows, 254 the previous bitmap applies, 255 none. */
  bitMapIndicator: number;
  packed: PackedSections;
}

const MAGIC = [0x47, 0x52, 0x49, 0x42]; // "GRIB"
const END = [0x37, 0x37, 0x37, 0x37]; // "7777"
const INDICATOR_LENGTH = 16;
/** Which section may follow which (section 8, "7777", ends a message after section 7). */
const NEXT_SECTIONS: Record<number, number[]> = { 0: [1], 1: [2, 3], 2: [3], 3: [4], 4: [5], 5: [6], 6: [7], 7: [2, 3, 4] };

function matchesAt(bytes: Uint8Array, offset: number, pattern: number[]): boolean {
  return pattern.every((byte, i) => bytes[offset + i] === byte);
}

/** Reads section 0 at `offset`: checks magic, edition and that the whole message is there; returns its length. */
export function readIndicator(bytes: Uint8Array, offset: number): { discipline: number; length: number } {
  if (bytes.length - offset < INDICATOR_LENGTH) {
    throw new Grib2Error('truncated', `${bytes.length - offset} bytes left, a message needs at least ${INDICATOR_LENGTH}`, { section: 0, offset });
  }
  if (!matchesAt(bytes, offset, MAGIC)) {
    const found = Array.from(bytes.subarray(offset, offset + 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new Grib2Error('bad-magic', `expected "GRIB", found bytes ${found}`, { section: 0, offset });
  }
  const indicator = new SectionOctets(bytes, offset, INDICATOR_LENGTH, 0);
  const edition = indicator.u8(8);
  if (edition !== 2) {
    throw new Grib2Error('unsupported-edition', `GRIB edition ${edition}: only edition 2 is supported`, { section: 0, offset: offset + 7 });
  }
  const length = indicator.u64(9);
  if (length < INDICATOR_LENGTH + END.length) {
    throw new Grib2Error('bad-length', `message length ${length} is shorter than sections 0 and 8`, { section: 0, offset: offset + 8 });
  }
  if (offset + length > bytes.length) {
    throw new Grib2Error('truncated', `message declares ${length} bytes, only ${bytes.length - offset} are there`, { section: 0, offset: offset + 8 });
  }
  if (!matchesAt(bytes, offset + length - END.length, END)) {
    throw new Grib2Error('missing-end', 'the message does not end with "7777"', { section: 8, offset: offset + length - END.length });
  }
  return { discipline: indicator.u8(7), length };
}

/** Parses the message at `offset` (sections 0 to 8) into its fields, without unpacking values. */
export function readMessage(bytes: Uint8Array, offset: number, index = 0): Grib2Field[] {
  const { discipline, length } = readIndicator(bytes, offset);
  const end = offset + length - END.length;
  const fields: Grib2Field[] = [];
  let identification: Identification | undefined;
  let grid: GridDefinition | undefined;
  let product: ProductDefinition | undefined;
  let representation: DataRepresentation | undefined;
  let bitMapIndicator = 255;
  let bitmapStart: number | undefined;
  /** The last bitmap of this message, which indicator 254 reuses, and the number of points it covers. */
  let previousBitmap: { start: number; points: number } | undefined;
  let previousSection = 0;

  for (let at = offset + INDICATOR_LENGTH; at < end; ) {
    if (end - at < 5) {
      throw new Grib2Error('bad-length', `${end - at} stray bytes before "7777"`, { offset: at });
    }
    const sectionLength = ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
    const number = bytes[at + 4]!;
    if (!NEXT_SECTIONS[previousSection]!.includes(number)) {
      throw new Grib2Error('bad-section-order', `section ${number} cannot follow section ${previousSection}`, { section: number, offset: at + 4 });
    }
    if (sectionLength < 5 || at + sectionLength > end) {
      throw new Grib2Error('bad-length', `section declares ${sectionLength} octets, ${end - at} remain before "7777"`, { section: number, offset: at });
    }
    const octets = new SectionOctets(bytes, at, sectionLength, number);
    switch (number) {
      case 1:
        identification = readIdentification(octets);
        break;
      case 3:
        grid = readGridDefinition(octets);
        break;
      case 4:
        product = readProductDefinition(octets, identification!.referenceTime);
        break;
      case 5:
        representation = readDataRepresentation(octets);
        break;
      case 6:
        [bitMapIndicator, bitmapStart] = readBitmapSection(octets, grid!, previousBitmap);
        previousBitmap = bitmapStart === undefined ? undefined : { start: bitmapStart, points: grid!.numberOfDataPoints };
        break;
      case 7: {
        checkValueCount(octets, grid!, representation!, bitmapStart !== undefined);
        const category = product!.parameterCategory;
        const parameterNumber = product!.parameterNumber;
        fields.push({
          message: { offset, length, index, fieldCount: 0 },
          fieldIndex: fields.length,
          discipline,
          identification: identification!,
          parameter: {
            discipline,
            category,
            number: parameterNumber,
            ...parameterName(discipline, category, parameterNumber, identification!.centre),
          },
          grid: grid!,
          product: product!,
          representation: representation!,
          bitMapIndicator,
          packed: { bytes, dataSection: { start: at, length: sectionLength }, bitmapStart },
        });
        break;
      }
      default: // section 2, local use: nothing of ours
    }
    previousSection = number;
    at += sectionLength;
  }
  if (previousSection !== 7) {
    throw new Grib2Error('bad-section-order', `"7777" follows section ${previousSection}, not section 7`, { section: 8, offset: end });
  }
  for (const field of fields) field.message.fieldCount = fields.length;
  return fields;
}

function readBitmapSection(octets: SectionOctets, grid: GridDefinition, previous: { start: number; points: number } | undefined): [number, number | undefined] {
  const indicator = octets.u8(6);
  if (indicator === 255) return [indicator, undefined];
  if (indicator === 254) {
    if (previous === undefined) throw octets.fail('bad-value', 'bitmap indicator 254 (previous bitmap) but no bitmap came before', 6);
    if (previous.points !== grid.numberOfDataPoints) {
      throw octets.fail('bad-value', `bitmap indicator 254: the previous bitmap, of ${previous.points} points, cannot serve a grid of ${grid.numberOfDataPoints} points`, 6);
    }
    return [indicator, previous.start];
  }
  if (indicator !== 0) throw octets.fail('unsupported-template', `predefined bitmap ${indicator} is not supported`, 6);
  const needed = Math.ceil(grid.numberOfDataPoints / 8);
  if (octets.length - 6 < needed) {
    throw octets.fail('truncated', `a bitmap of ${grid.numberOfDataPoints} points needs ${needed} octets, the section holds ${octets.length - 6}`, 7);
  }
  return [indicator, octets.offsetOf(7)];
}

function checkValueCount(section7: SectionOctets, grid: GridDefinition, representation: DataRepresentation, hasBitmap: boolean): void {
  const { numberOfValues } = representation;
  const fits = hasBitmap ? numberOfValues <= grid.numberOfDataPoints : numberOfValues === grid.numberOfDataPoints;
  if (!fits) {
    throw section7.fail('bad-value', `section 5 declares ${numberOfValues} values for a grid of ${grid.numberOfDataPoints} points${hasBitmap ? '' : ' without a bitmap'}`);
  }
}

/**
 * Each message of `bytes` (whole messages back to back) in turn: its fields, or the error that
 * keeps them from being read; the next one is still found, by the length its section 0 declares.
 */
export function* eachMessage(bytes: Uint8Array): Generator<{ index: number; fields: Grib2Field[] } | { index: number; error: unknown }> {
  for (let offset = 0, index = 0; offset < bytes.length; index++) {
    const { length } = readIndicator(bytes, offset);
    let message;
    try {
      message = { index, fields: readMessage(bytes, offset, index) };
    } catch (error) {
      message = { index, error };
    }
    yield message;
    offset += length;
  }
}

/** Every field of every message in `bytes`, which must hold whole messages back to back. */
export function readFields(bytes: Uint8Array): Grib2Field[] {
  const fields: Grib2Field[] = [];
  for (let offset = 0, index = 0; offset < bytes.length; index++) {
    const messageFields = readMessage(bytes, offset, index);
    fields.push(...messageFields);
    offset += messageFields[0]!.message.length;
  }
  return fields;
}
