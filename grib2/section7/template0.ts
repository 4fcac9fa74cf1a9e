import { BitReader } from '../bits.js';
import type { SectionOctets } from '../octets.js';
import type { SimplePacking } from '../section5/index.js';
import { scaleInto, valueScaler } from './scale.js';

/** Data template 7.0: `count` values of `bitsPerValue` bits each, one after the other. */
export function unpackSimple(data: Uint8Array, count: number, packing: SimplePacking, section7: SectionOctets): Float32Array {
  if (packing.bitsPerValue === 0) return new Float32Array(count).fill(valueScaler(packing).constant);
  const needed = count * packing.bitsPerValue;
  if (needed > data.length * 8) {
    throw section7.fail('truncated', `${count} values of ${packing.bitsPerValue} bits need ${Math.ceil(needed / 8)} octets, the section holds ${data.length}`, 6);
  }
  const out = new Float32Array(count);
  const packed = new Float64Array(count);
  new BitReader(data).readInto(packed, 0, count, packing.bitsPerValue, 0);
  scaleInto(out, packed, packing);
  return out;
}
