import { Grib2Error } from './errors.js';

/**
 * Reads a section's fields by their WMO octet numbers (1-based, counted from the start of the
 * section), so that template code reads like the tables in the Manual on Codes.
 * GRIB2 signed integers are sign-and-magnitude, not two's complement.
 */
export class SectionOctets {
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    /** Byte offset of the section's first octet in `bytes`. */
    readonly start: number,
    /** Section length in octets, as declared in its first four octets. */
    readonly length: number,
    readonly section: number,
    public template?: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  u8(octet: number): number {
    return this.view.getUint8(this.at(octet, 1));
  }

  u16(octet: number): number {
    return this.view.getUint16(this.at(octet, 2));
  }

  u32(octet: number): number {
    return this.view.getUint32(this.at(octet, 4));
  }

  /** An 8-byte unsigned integer, exact up to 2^53. */
  u64(octet: number): number {
    const at = this.at(octet, 8);
    return this.view.getUint32(at) * 2 ** 32 + this.view.getUint32(at + 4);
  }

  s8(octet: number): number {
    const raw = this.u8(octet);
    return raw & 0x80 ? -(raw & 0x7f) : raw;
  }

  s16(octet: number): number {
    const raw = this.u16(octet);
    return raw & 0x8000 ? -(raw & 0x7fff) : raw;
  }

  s32(octet: number): number {
    const raw = this.u32(octet);
    return raw >= 0x80000000 ? -(raw - 0x80000000) : raw;
  }

  f32(octet: number): number {
    return this.view.getFloat32(this.at(octet, 4));
  }

  /** Year (2 octets), month, day, hour, minute and second from `octet` on, as a UTC date; `what` names it in the error when it is not a date. */
  dateTime(octet: number, what: string): Date {
    const [year, month, day, hour, minute, second] = [
      this.u16(octet), this.u8(octet + 2), this.u8(octet + 3), this.u8(octet + 4), this.u8(octet + 5), this.u8(octet + 6),
    ];
    const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59 || date.getUTCDate() !== day) {
      throw this.fail('bad-value', `${what} ${year}-${month}-${day} ${hour}:${minute}:${second} is not a date`, octet);
    }
    return date;
  }

  /** Byte offset in `bytes` of an octet of this section. */
  offsetOf(octet: number): number {
    return this.start + octet - 1;
  }

  fail(kind: Grib2Error['kind'], detail: string, octet = 1): Grib2Error {
    const where = { section: this.section, offset: this.offsetOf(octet) };
    return new Grib2Error(kind, detail, this.template === undefined ? where : { ...where, template: this.template });
  }

  private at(octet: number, size: number): number {
    if (octet < 1 || octet + size - 1 > this.length) {
      throw this.fail(
        'bad-length',
        `section is ${this.length} octets long but octets ${octet}-${octet + size - 1} are needed`,
        Math.min(Math.max(octet, 1), this.length + 1),
      );
    }
    return this.start + octet - 1;
  }
}
