import { signMagnitude } from './sign-magnitude.js';

/**
 * Writes big-endian unsigned integers of 0 to 32 bits into a bit stream, MSB first and without
 * alignment: the counterpart of BitReader (grib2/bits.ts).
 */
export class BitWriter {
  private bytes: Uint8Array;
  position = 0;

  constructor(initialOctets = 1024) {
    this.bytes = new Uint8Array(Math.max(initialOctets, 8));
  }

  write(value: number, width: number): void {
    if (width === 0) {
      if (value !== 0) throw new RangeError(`${value} does not fit in 0 bits`);
      return;
    }
    if (width > 32 || !Number.isInteger(value) || value < 0 || value >= 2 ** width) {
      throw new RangeError(`${value} does not fit in ${width} bits`);
    }
    this.reserve(width);
    let remaining = width;
    while (remaining > 0) {
      const free = 8 - (this.position & 7);
      const take = Math.min(free, remaining);
      remaining -= take;
      const chunk = Math.floor(value / 2 ** remaining) & ((1 << take) - 1);
      this.bytes[this.position >>> 3] |= chunk << (free - take);
      this.position += take;
    }
  }

  /** Writes a sign-and-magnitude integer (the top bit is the sign). */
  writeSigned(value: number, width: number): void {
    this.write(signMagnitude(value, width), width);
  }

  /** Writes `count` values of `width` bits from `values`, starting at `start`, less `offset` each. */
  writeAll(values: ArrayLike<number>, start: number, count: number, width: number, offset = 0): void {
    for (let i = start; i < start + count; i++) this.write(values[i]! - offset, width);
  }

  /** Pads with zero bits to the next octet boundary. */
  alignToByte(): void {
    this.position = Math.ceil(this.position / 8) * 8;
    this.reserve(0);
  }

  /** The octets written so far (the last one zero-padded). */
  toBytes(): Uint8Array {
    return this.bytes.slice(0, Math.ceil(this.position / 8));
  }

  private reserve(bits: number): void {
    const needed = Math.ceil((this.position + bits) / 8);
    if (needed <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(needed, this.bytes.length * 2));
    grown.set(this.bytes);
    this.bytes = grown;
  }
}
