import { signMagnitude } from './sign-magnitude.js';

/**
 * Writes a section's fields by their WMO octet numbers (1-based, from the start of the section),
 * like SectionOctets (grib2/octets.ts) reads them. Octets 1-4 (length) and 5 (number) are filled in.
 */
export class SectionWriter {
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(readonly section: number, length: number) {
    this.bytes = new Uint8Array(length);
    this.view = new DataView(this.bytes.buffer);
    this.u32(1, length);
    this.u8(5, section);
  }

  u8(octet: number, value: number): void {
    this.view.setUint8(this.at(octet, 1), this.unsigned(value, 8, octet));
  }

  u16(octet: number, value: number): void {
    this.view.setUint16(this.at(octet, 2), this.unsigned(value, 16, octet));
  }

  u32(octet: number, value: number): void {
    this.view.setUint32(this.at(octet, 4), this.unsigned(value, 32, octet));
  }

  /** An 8-byte unsigned integer, exact up to 2^53. */
  u64(octet: number, value: number): void {
    const at = this.at(octet, 8);
    this.unsigned(value, 53, octet);
    this.view.setUint32(at, Math.floor(value / 2 ** 32));
    this.view.setUint32(at + 4, value % 2 ** 32);
  }

  s8(octet: number, value: number): void {
    this.u8(octet, signMagnitude(value, 8));
  }

  s16(octet: number, value: number): void {
    this.u16(octet, signMagnitude(value, 16));
  }

  s32(octet: number, value: number): void {
    this.u32(octet, signMagnitude(value, 32));
  }

  f32(octet: number, value: number): void {
    this.view.setFloat32(this.at(octet, 4), value);
  }

  /** Copies `data` in from `octet` on. */
  set(octet: number, data: Uint8Array): void {
    this.bytes.set(data, this.at(octet, data.length));
  }

  private unsigned(value: number, bits: number, octet: number): number {
    if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
      throw new RangeError(`section ${this.section}, octet ${octet}: ${value} is not an unsigned ${bits}-bit integer`);
    }
    return value;
  }

  private at(octet: number, size: number): number {
    if (octet < 1 || octet + size - 1 > this.bytes.length) {
      throw new RangeError(`section ${this.section} is ${this.bytes.length} octets long, octets ${octet}-${octet + size - 1} do not fit`);
    }
    return octet - 1;
  }
}
