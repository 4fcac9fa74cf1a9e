import { util } from 'apache-arrow';
import type { NormalizationConfig } from '../model/config.js';
import type { ShardEncoding } from './types.js';

/** The values of one row as a shard keeps them. */
export type EncodedValues = Float32Array | Uint16Array | Uint8Array;

/**
 * The default, chosen by measuring (`npm run bench -- shards`): half of float32's size, and it
 * keeps what the data holds. NOAA packs REFC in steps of 1/16 dBZ, 961 levels over 0..60 (10
 * bits); float16 is within 0.014 dBZ of every value, so each rounds back to its packed step.
 * uint8 (a step of 60/255 = 0.235 dBZ) halves the size again but moves most non-zero values off it.
 */
export const DEFAULT_ENCODING: ShardEncoding = 'float16';

export const ENCODINGS: readonly ShardEncoding[] = ['float32', 'float16', 'uint8'];

/** What a uint8 code stands for: code q is low + q * step, so 0 and the range's ends come back exactly. */
export function quantization({ clipMin, clipMax, scale }: NormalizationConfig): { low: number; step: number } {
  const low = Math.min(clipMin / scale, clipMax / scale);
  const high = Math.max(clipMin / scale, clipMax / scale);
  return { low, step: (high - low) / 255 };
}

/** Normalized values in the shard's encoding; `what` names the row in the error when a value cannot be kept. */
export function encodeValues(values: Float32Array, encoding: ShardEncoding, normalization: NormalizationConfig, what: string): EncodedValues {
  switch (encoding) {
    case 'float32':
      return values.slice();
    case 'float16': {
      const out = new Uint16Array(values.length);
      for (let i = 0; i < values.length; i++) out[i] = util.float64ToUint16(values[i]!);
      return out;
    }
    case 'uint8': {
      const { low, step } = quantization(normalization);
      const out = new Uint8Array(values.length);
      for (let i = 0; i < values.length; i++) {
        const code = Math.round((values[i]! - low) / step);
        // Values outside the normalized range (or NaN) say the field was not normalized as the shard says.
        if (!(code >= 0 && code <= 255)) throw new RangeError(`${what}: value ${values[i]} at index ${i} is outside the normalized range [${low}, ${low + 255 * step}]`);
        out[i] = code;
      }
      return out;
    }
  }
}

/** Every float16's value, made on first use: a lookup decodes a field several times faster than converting each. */
let float16Table: Float32Array | undefined;

/** The values of one row back as float32, whatever the encoding. */
export function decodeValues(encoded: EncodedValues, encoding: ShardEncoding, normalization: NormalizationConfig): Float32Array {
  switch (encoding) {
    case 'float32':
      return (encoded as Float32Array).slice();
    case 'float16': {
      const table = (float16Table ??= Float32Array.from({ length: 65536 }, (_, half) => util.uint16ToFloat64(half)));
      const out = new Float32Array(encoded.length);
      for (let i = 0; i < encoded.length; i++) out[i] = table[encoded[i]!]!;
      return out;
    }
    case 'uint8': {
      const { low, step } = quantization(normalization);
      const table = Float32Array.from({ length: 256 }, (_, code) => low + code * step);
      const out = new Float32Array(encoded.length);
      for (let i = 0; i < encoded.length; i++) out[i] = table[encoded[i]!]!;
      return out;
    }
  }
}
