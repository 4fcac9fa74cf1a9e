import * as tf from '@tensorflow/tfjs-core';
import type { Autoencoder } from './autoencoder.js';
import { croppedShape } from './config.js';
import { logCoshPerImage } from './loss.js';

export interface Embedding {
  embedding: Float32Array;
  /** Mean log-cosh between the cropped field and its reconstruction: the training loss, per image. */
  reconstructionError: number;
}

/** Embeddings and reconstruction errors of cropped, normalized fields [n, height, width, 1], in one pass. */
export async function embedBatch(model: Autoencoder, batch: tf.Tensor4D): Promise<Embedding[]> {
  const [height, width] = croppedShape(model.config);
  if (batch.shape[1] !== height || batch.shape[2] !== width || batch.shape[3] !== 1) {
    throw new Error(`the model takes cropped fields of ${height} x ${width} x 1, not ${batch.shape.slice(1).join(' x ')}`);
  }
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
