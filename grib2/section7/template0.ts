import { BitReader } from '../bits.js';
import type { SectionOctets } from '../octets.js';
import type { SimplePacking } from '../section5/index.js';
import { scaleInto, valueScaler } from './scale.js';

/** Widths up to which any value lies within one 32-bit window read at its first octet. */
const MAX_WINDOW_WIDTH = 25;

/** Data template 7.0: `count` values of `bitsPerValue` bits each, one after the other. */
export function unpackSimple(data: Uint8Array, count: number, packing: SimplePacking, section7: SectionOctets): Float32Array {
  const scaler = valueScaler(packing);
  const width = packing.bitsPerValue;
  if (width === 0) return new Float32Array(count).fill(scaler.constant);
  const needed = count * width;
  if (needed > data.length * 8) {
    throw section7.fail('truncated', `${count} values of ${width} bits need ${Math.ceil(needed / 8)} octets, the section holds ${data.length}`, 6);
  }
  const reader = new BitReader(data);
  const out = new Float32Array(count);
  if (width > MAX_WINDOW_WIDTH) {
    const packed = new Float64Array(count);
    reader.readInto(packed, 0, count, width, 0);
    scaleInto(out, packed, packing);
    return out;
  }
  // Read and scale in one pass, with the same arithmetic as scaleInto.
  const { binary, reference, decimal } = scaler;
  const bytes = reader.paddedBytes;
  const drop = 32 - width;
  for (let i = 0, position = 0; i < count; i++, position += width) {
    const at = position >>> 3;
    const window = (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
    out[i] = (((window << (position & 7)) >>> drop) * binary + reference) * decimal;
  }
  return out;
}
