import * as tf from '@tensorflow/tfjs-core';
import type { Autoencoder } from './autoencoder.js';
import { assertBatchFits, largestBatch } from './batch-limit.js';
import { croppedShape, type ModelConfig } from './config.js';
import { logCoshPerImage } from './loss.js';

export interface Embedding {
  embedding: Float32Array;
  /** Mean log-cosh between the cropped field and its reconstruction: the training loss, per image. */
  reconstructionError: number;
}

/** Throws unless `imageShape` is [height, width, 1] of the model's cropped fields. */
export function assertCroppedShape(config: ModelConfig, imageShape: readonly number[]): void {
  const [height, width] = croppedShape(config);
  if (imageShape[0] !== height || imageShape[1] !== width || imageShape[2] !== 1) {
    throw new Error(`the model takes cropped fields of ${height} x ${width} x 1, not ${imageShape.join(' x ')}`);
  }
}

/**
 * Embeddings and reconstruction errors of cropped, normalized fields [n, height, width, 1]: in
 * one pass, or in as few as the adapter's largest buffer allows. Only the embeddings and the
 * errors are read back from the device.
 */
export async function embedBatch(model: Autoencoder, batch: tf.Tensor4D): Promise<Embedding[]> {
  assertCroppedShape(model.config, batch.shape.slice(1));
  const perPass = Math.max(1, largestBatch(model));
  if (batch.shape[0] <= perPass) return embedOnePass(model, batch);
  const results: Embedding[] = [];
  for (let first = 0; first < batch.shape[0]; first += perPass) {
    const part = tf.slice(batch, first, Math.min(perPass, batch.shape[0] - first));
    results.push(...(await embedOnePass(model, part).finally(() => part.dispose())));
  }
  return results;
}

async function embedOnePass(model: Autoencoder, batch: tf.Tensor4D): Promise<Embedding[]> {
  assertBatchFits(model, batch.shape[0]);
  const [embeddings, errors] = tf.tidy(() => {
    const [embedding, reconstruction] = model.embedder.predict(batch) as [tf.Tensor2D, tf.Tensor4D];
    return [embedding, logCoshPerImage(batch, reconstruction)] as const;
  });
  try {
    const [flat, perImage] = await Promise.all([embeddings.data() as Promise<Float32Array>, errors.data() as Promise<Float32Array>]);
    const size = model.config.numdense;
    return Array.from(perImage, (reconstructionError, i) => ({ embedding: flat.slice(i * size, (i + 1) * size), reconstructionError }));
  } finally {
    embeddings.dispose();
    errors.dispose();
  }
}

/** A cropped field as the model takes it: height x width values, row after row. */
export interface CroppedField {
  height: number;
  width: number;
  values: Float32Array;
}

/** Encodes batches of cropped fields of one size, in order: in this thread (embedFields) or another (encoder-thread.ts). */
export type BatchEncoder = (fields: readonly CroppedField[]) => Promise<Embedding[]>;

/** Fields of one size, one after another in one array, with the batch's shape [n, height, width, 1]. */
export function stackFields(fields: readonly CroppedField[]): { values: Float32Array<ArrayBuffer>; shape: [number, number, number, 1] } {
  const { height, width } = fields[0]!;
  const values = new Float32Array(fields.length * height * width);
  fields.forEach((field, i) => values.set(field.values, i * height * width));
  return { values, shape: [fields.length, height, width, 1] };
}

/** Embeddings of same-sized cropped fields in one pass of the model, in this thread. */
export async function embedFields(model: Autoencoder, fields: readonly CroppedField[]): Promise<Embedding[]> {
  const { values, shape } = stackFields(fields);
  const batch = tf.tensor4d(values, shape);
  return embedBatch(model, batch).finally(() => batch.dispose());
}
