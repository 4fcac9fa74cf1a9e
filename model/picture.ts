import * as tf from '@tensorflow/tfjs-core';
import { encode as encodePng } from 'fast-png';
import type { NormalizedField } from '../stages/types.js';
import type { Autoencoder } from './autoencoder.js';

/** The model's reconstruction of a normalized, cropped field (same shape, same row order). */
export async function reconstruct(model: Autoencoder, { height, width, values }: Pick<NormalizedField, 'height' | 'width' | 'values'>): Promise<Float32Array> {
  const output = tf.tidy(() => {
    const [, reconstruction] = model.embedder.predict(tf.tensor4d(values, [1, height, width, 1])) as [tf.Tensor, tf.Tensor];
    return reconstruction;
  });
  try {
    return (await output.data()) as Float32Array;
  } finally {
    output.dispose();
  }
}

const GAP = 8;

/**
 * A PNG for people: the original, the reconstruction and their difference side by side, north
 * up, each shrunk `shrink` times by taking the strongest echo of each block (so storms stay
 * visible). Values are the model's input (0 to 1); the difference is red where the
 * reconstruction is stronger, blue where it is weaker.
 */
export function alertPicture({ height, width, values }: Pick<NormalizedField, 'height' | 'width' | 'values'>, reconstruction: Float32Array, shrink = 4): Uint8Array {
  const difference = reconstruction.map((value, i) => value - values[i]!);
  return sideBySide(height, width, [{ values, kind: 'echo' }, { values: reconstruction, kind: 'echo' }, { values: difference, kind: 'difference' }], shrink);
}


/** A PNG of one field in the model's scale (0 to 1), north up, in radar colours. */
export function fieldPicture(values: Float32Array, height: number, width: number, shrink = 1): Uint8Array {
  return sideBySide(height, width, [{ values, kind: 'echo' }], shrink);
}

/** A PNG of reconstruction minus field, red where the reconstruction is stronger, blue where weaker. */
export function differencePicture(values: Float32Array, reconstruction: Float32Array, height: number, width: number, shrink = 1): Uint8Array {
  return sideBySide(height, width, [{ values: reconstruction.map((value, i) => value - values[i]!), kind: 'difference' }], shrink);
}

/** One panel of a picture: model input or a reconstruction (echo colours), or a difference (red and blue). */
export interface Panel {
  values: Float32Array;
  kind: 'echo' | 'difference';
}

/** Panels of height x width values side by side, north up, each shrunk `shrink` times by the strongest value of each block. */
export function sideBySide(height: number, width: number, panels: readonly Panel[], shrink = 4): Uint8Array {
  const rows = Math.ceil(height / shrink);
  const columns = Math.ceil(width / shrink);
  const pictureWidth = columns * panels.length + GAP * (panels.length - 1);
  const data = new Uint8Array(pictureWidth * rows * 3).fill(255);
  panels.forEach(({ values, kind }, index) => {
    const panel = shrinkByMax(values, height, width, shrink, Math.abs);
    const colour = kind === 'echo' ? echoColour : differenceColour;
    const left = index * (columns + GAP);
    for (let row = 0; row < rows; row++) {
      // Row 0 of the field is the southernmost; row 0 of a picture is the top.
      const line = (rows - 1 - row) * pictureWidth;
      for (let column = 0; column < columns; column++) data.set(colour(panel[row * columns + column]!), (line + left + column) * 3);
    }
  });
  return encodePng({ width: pictureWidth, height: rows, data, channels: 3, depth: 8 });
}

/** Each `shrink` x `shrink` block as its value of largest `size`, sign kept. */
function shrinkByMax(values: Float32Array, height: number, width: number, shrink: number, size: (value: number) => number): Float32Array {
  const rows = Math.ceil(height / shrink);
  const columns = Math.ceil(width / shrink);
  const out = new Float32Array(rows * columns);
  for (let row = 0; row < height; row++) {
    for (let column = 0; column < width; column++) {
      const value = values[row * width + column]!;
      const at = Math.floor(row / shrink) * columns + Math.floor(column / shrink);
      if (size(value) > size(out[at]!)) out[at] = value;
    }
  }
  return out;
}

/** Radar colours: white for no echo, then blue, green, yellow and red as the echo grows to 1 (60 dBZ). */
function echoColour(value: number): [number, number, number] {
  const v = Math.min(1, Math.max(0, value));
  if (v < 1 / 6) return [255, 255, 255];
  const stops: [number, [number, number, number]][] = [[1 / 6, [120, 170, 255]], [0.4, [40, 190, 60]], [0.6, [250, 220, 0]], [0.8, [240, 80, 0]], [1, [180, 0, 40]]];
  for (let i = 1; i < stops.length; i++) {
    const [to, high] = stops[i]!;
    const [from, low] = stops[i - 1]!;
    if (v <= to) {
      const t = (v - from) / (to - from);
      return [0, 1, 2].map((c) => Math.round(low[c]! + t * (high[c]! - low[c]!))) as [number, number, number];
    }
  }
  return stops.at(-1)![1];
}

function differenceColour(value: number): [number, number, number] {
  const strength = Math.round(255 * Math.min(1, Math.abs(value) * 2));
  return value >= 0 ? [255, 255 - strength, 255 - strength] : [255 - strength, 255 - strength, 255];
}
