import { decode as decodePng } from 'fast-png';
import type { SectionOctets } from '../octets.js';
import type { SimplePacking } from '../section5/index.js';
import { scaleInto, valueScaler } from './scale.js';

/**
 * Data template 7.41: the packed integers are the pixels of a PNG image, grey (1 to 16 bits),
 * RGB (24 bits) or RGBA (32 bits) read as one big-endian integer per pixel.
 */
export function unpackPng(data: Uint8Array, count: number, packing: SimplePacking, section7: SectionOctets): Float32Array {
  if (packing.bitsPerValue === 0) return new Float32Array(count).fill(valueScaler(packing).constant);
  const size = headerSize(data);
  if (size && size.width * size.height !== count) {
    // Checked before decoding: fast-png allocates, and runs over, whatever size the header declares.
    throw section7.fail('bad-value', `PNG image of ${size.width} x ${size.height} pixels, section 5 declares ${count} values`, 6);
  }
  let image;
  try {
    // Checking each chunk's CRC: a corrupt image otherwise often decodes, into other values.
    image = decodePng(data, { checkCrc: true });
  } catch (error) {
    throw section7.fail('bad-value', `the PNG image does not decode: ${(error as Error).message}`, 6);
  }
  const pixels = image.width * image.height;
  if (pixels !== count) {
    throw section7.fail('bad-value', `the PNG image holds ${image.width} x ${image.height} pixels, section 5 declares ${count} values`, 6);
  }
  const packed = pixelValues(image.data, image.width, image.height, image.depth, image.channels);
  if (!packed) {
    throw section7.fail('unsupported-template', `PNG of ${image.channels} channels of ${image.depth} bits is not a GRIB2 packing`, 6);
  }
  const out = new Float32Array(count);
  scaleInto(out, packed, packing);
  return out;
}

/** Image size from the IHDR chunk, which follows the 8-octet PNG signature. */
function headerSize(data: Uint8Array): { width: number; height: number } | undefined {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 24 || view.getUint32(12) !== 0x49484452) return undefined; // "IHDR"
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

function pixelValues(data: ArrayLike<number>, width: number, height: number, depth: number, channels: number): ArrayLike<number> | undefined {
  if (channels === 1 && (depth === 8 || depth === 16)) return data;
  if (channels === 1 && depth < 8) return unpackSubBytePixels(data, width, height, depth);
  if (depth === 8 && (channels === 3 || channels === 4)) {
    const values = new Float64Array(width * height);
    for (let p = 0, i = 0; p < values.length; p++) {
      let value = 0;
      for (let c = 0; c < channels; c++) value = value * 256 + data[i++]!;
      values[p] = value;
    }
    return values;
  }
  return undefined;
}

function unpackSubBytePixels(data: ArrayLike<number>, width: number, height: number, depth: number): Uint8Array {
  const rowBytes = Math.ceil((width * depth) / 8);
  const perByte = 8 / depth;
  const mask = (1 << depth) - 1;
  const values = new Uint8Array(width * height);
  for (let row = 0; row < height; row++) {
    for (let column = 0; column < width; column++) {
      const byte = data[row * rowBytes + Math.floor(column / perByte)]!;
      const shift = 8 - depth * ((column % perByte) + 1);
      values[row * width + column] = (byte >> shift) & mask;
    }
  }
  return values;
}
