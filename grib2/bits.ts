/** Zero bytes kept after the data so that the 40-bit window below never reads out of bounds. */
const PADDING = 8;

/**
 * Reads big-endian unsigned integers of 0 to 32 bits from a bit stream (GRIB2 packs values
 * MSB first, without alignment). Callers check that what they read fits in `bitLength`.
 */
export class BitReader {
  readonly bitLength: number;
  private readonly bytes: Uint8Array;
  /** The data followed by 8 zero octets: a 32-bit window read at any octet of the data stays in bounds. */
  get paddedBytes(): Uint8Array {
    return this.bytes;
  }
  position = 0;

  constructor(data: Uint8Array) {
    this.bytes = new Uint8Array(data.length + PADDING);
    this.bytes.set(data);
    this.bitLength = data.length * 8;
  }

  read(width: number): number {
    const value = readAt(this.bytes, this.position, width);
    this.position += width;
    return value;
  }

  /** Reads a sign-and-magnitude integer (the top bit is the sign). */
  readSigned(width: number): number {
    const sign = this.read(1);
    const magnitude = this.read(width - 1);
    return sign ? -magnitude : magnitude;
  }

  /** Reads `count` values of `width` bits into `out` from `outStart`, adding `offset` to each. */
  readInto(out: Int32Array | Float64Array, outStart: number, count: number, width: number, offset: number): void {
    const end = outStart + count;
    if (width === 0) {
      out.fill(offset, outStart, end);
      return;
    }
    const bytes = this.bytes;
    let position = this.position;
    if (width <= 25) {
      // Any 25-bit value starting at any bit lies within one 32-bit window.
      const drop = 32 - width;
      for (let i = outStart; i < end; i++) {
        const at = position >>> 3;
        const window = (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
        out[i] = ((window << (position & 7)) >>> drop) + offset;
        position += width;
      }
    } else {
      for (let i = outStart; i < end; i++) {
        out[i] = readAt(bytes, position, width) + offset;
        position += width;
      }
    }
    this.position = position;
  }

  alignToByte(): void {
    this.position = Math.ceil(this.position / 8) * 8;
  }
}

function readAt(bytes: Uint8Array, position: number, width: number): number {
  if (width === 0) return 0;
  const at = position >>> 3;
  const shift = position & 7;
  const window = ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
  if (shift + width <= 32) return ((window << shift) >>> 0) >>> (32 - width);
  const spill = shift + width - 32;
  const high = window % 2 ** (32 - shift);
  return high * 2 ** spill + (bytes[at + 4]! >>> (8 - spill));
}
