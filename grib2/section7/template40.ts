import { createRequire } from 'node:module';
import type { SectionOctets } from '../octets.js';
import type { SimplePacking } from '../section5/index.js';
import { scaleInto, valueScaler } from './scale.js';

interface J2KDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned: boolean };
  delete(): void;
}
interface OpenJpegModule {
  J2KDecoder: new () => J2KDecoder;
}

let openJpeg: Promise<OpenJpegModule> | undefined;

/** OpenJPEG compiled to WebAssembly (the Cornerstone build), loaded the first time a 5.40 field is met. */
function loadOpenJpeg(): Promise<OpenJpegModule> {
  if (!openJpeg) {
    const require = createRequire(import.meta.url);
    const factory = require('@cornerstonejs/codec-openjpeg/decodewasmjs') as (options: object) => Promise<OpenJpegModule>;
    const quiet = () => {}; // OpenJPEG logs every header it reads to stdout otherwise.
    openJpeg = factory({ print: quiet, printErr: quiet });
  }
  return openJpeg;
}

/** The Cornerstone build keeps image sides in 16 bits and silently truncates larger ones. */
const CODEC_MAX_SIDE = 65_535;

/**
 * What the SIZ marker segment that follows the start of a J2K code stream declares: the image size,
 * and the subsampling (XRsiz, YRsiz) of its first component with the size that gives it.
 */
function readSiz(data: Uint8Array): { width: number; height: number; subsampling: [number, number]; component: [number, number] } | undefined {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 45 || view.getUint16(0) !== 0xff4f || view.getUint16(2) !== 0xff51) return undefined;
  const [xsiz, ysiz, xosiz, yosiz] = [view.getUint32(8), view.getUint32(12), view.getUint32(16), view.getUint32(20)];
  const [xr, yr] = [view.getUint8(43), view.getUint8(44)];
  const component: [number, number] = [Math.ceil(xsiz / xr) - Math.ceil(xosiz / xr), Math.ceil(ysiz / yr) - Math.ceil(yosiz / yr)];
  return { width: xsiz - xosiz, height: ysiz - yosiz, subsampling: [xr, yr], component };
}

/** Data template 7.40: the packed integers are the samples of a single-component JPEG 2000 code stream. */
export async function unpackJpeg2000(data: Uint8Array, count: number, packing: SimplePacking, section7: SectionOctets): Promise<Float32Array> {
  if (packing.bitsPerValue === 0) return new Float32Array(count).fill(valueScaler(packing).constant);
  const size = readSiz(data);
  if (size && (size.width > CODEC_MAX_SIDE || size.height > CODEC_MAX_SIDE)) {
    throw section7.fail(
      'unsupported-template',
      `JPEG 2000 image of ${size.width} x ${size.height} samples: the codec reads at most ${CODEC_MAX_SIDE} a side (a bitmapped field is packed as one row)`,
      6,
    );
  }
  if (size && size.width * size.height !== count) {
    // Checked before decoding: the codec would allocate and decode whatever size the header declares.
    throw section7.fail('bad-value', `JPEG 2000 image of ${size.width} x ${size.height} samples, section 5 declares ${count} values`, 6);
  }
  if (size && (size.component[0] !== size.width || size.component[1] !== size.height)) {
    // The codec would decode a subsampled component into an image of the full size, of other values.
    throw section7.fail(
      'unsupported-template',
      `JPEG 2000 component subsampled ${size.subsampling.join(' x ')}, of ${size.component.join(' x ')} samples in an image of ${size.width} x ${size.height}: GRIB2 packs one sample per value`,
      6,
    );
  }
  const { J2KDecoder } = await loadOpenJpeg();
  const decoder = new J2KDecoder();
  try {
    decoder.getEncodedBuffer(data.length).set(data);
    try {
      decoder.decode();
    } catch (error) {
      throw section7.fail('bad-value', `the JPEG 2000 code stream does not decode: ${String(error)}`, 6);
    }
    const info = decoder.getFrameInfo();
    if (info.componentCount !== 1) {
      throw section7.fail('unsupported-template', `JPEG 2000 image has ${info.componentCount} components, GRIB2 packs one`, 6);
    }
    if (info.bitsPerSample > 16) {
      throw section7.fail('unsupported-template', `JPEG 2000 samples of ${info.bitsPerSample} bits: the codec reads at most 16`, 6);
    }
    const decoded = decoder.getDecodedBuffer();
    const sampleCount = info.bitsPerSample <= 8 ? decoded.length : decoded.length / 2;
    if (sampleCount !== count) {
      throw section7.fail('bad-value', `the JPEG 2000 image holds ${sampleCount} samples, section 5 declares ${count} values`, 6);
    }
    const samples =
      info.bitsPerSample <= 8
        ? new Uint8Array(decoded)
        : new Uint16Array(decoded.buffer.slice(decoded.byteOffset, decoded.byteOffset + count * 2));
    const out = new Float32Array(count);
    scaleInto(out, samples, packing);
    return out;
  } finally {
    decoder.delete();
  }
}
