import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { decodeValues, readFields } from '../../grib2/index.js';
import { SEED_NORMALIZATION } from '../../model/config.js';
import { normalizeAndCrop } from '../../stages/transforms/normalize.js';
import type { DecodedField } from '../../stages/types.js';
import { sharedData } from '../paths.js';

/** A model small enough for CI (2 cores) in every test but the one on the seed's shapes. */
export const SMALL_CONFIG = { inputHeight: 38, inputWidth: 70, cropping: [[3, 3], [3, 3]], nlayers: 2, poolsize: 4, numfilters: 2, numdense: 16 };

export const REFC_KEY = 'hrrr.20221014.t01z.wrfsubhf.REFC-VBDSF.grib2';

/** The real REFC field of the shared HRRR file (scanning mode 64), decoded. */
export async function refcField(): Promise<DecodedField> {
  const bytes = readFileSync(join(sharedData, 'hrrr', REFC_KEY));
  const field = readFields(bytes)[0]!;
  return { source: { store: 'file://', key: REFC_KEY }, field, values: await decodeValues(field) };
}

/**
 * `count` windows of height x width of the normalized REFC field, those with the most
 * reflectivity (storms rather than empty sky), as one batch [count, height, width, 1].
 */
export async function refcWindows(count: number, height: number, width: number): Promise<tf.Tensor4D> {
  const { values, field } = await refcField();
  const { nx, ny } = field.grid;
  const all = normalizeAndCrop(values, { nx, ny, southFirst: true }, SEED_NORMALIZATION, [[0, 0], [0, 0]]);
  const windows: Array<{ sum: number; row: number; column: number }> = [];
  for (let row = 0; row + height <= ny; row += height) {
    for (let column = 0; column + width <= nx; column += width) {
      let sum = 0;
      for (let i = 0; i < height; i++) for (let j = 0; j < width; j++) sum += all[(row + i) * nx + column + j]!;
      windows.push({ sum, row, column });
    }
  }
  windows.sort((a, b) => b.sum - a.sum);
  const batch = new Float32Array(count * height * width);
  windows.slice(0, count).forEach(({ row, column }, k) => {
    for (let i = 0; i < height; i++) batch.set(all.subarray((row + i) * nx + column, (row + i) * nx + column + width), (k * height + i) * width);
  });
  return tf.tensor4d(batch, [count, height, width, 1]);
}

/** Whether the webgpu tests run: infra/install-vulkan.sh gives them lavapipe; HRRR_EMBED_NO_WEBGPU=1 turns them off. */
export const webgpuSkip = process.env.HRRR_EMBED_NO_WEBGPU ? 'HRRR_EMBED_NO_WEBGPU is set' : false;

export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} and ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
