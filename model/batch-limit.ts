import type { Autoencoder } from './autoencoder.js';
import { largestBufferBytes } from './backends.js';

/** Bytes of the model's largest activation (a full-size 16-channel layer: 117 MB) for one image. */
export function largestActivationBytes(model: Autoencoder): number {
  const perImage = model.croppedAutoencoder.layers.map((layer) => (layer.outputShape as number[]).slice(1).reduce((a, b) => a * b, 1));
  return 4 * Math.max(...perImage);
}

/** How many images one pass of the model can take on the current backend (Infinity off webgpu). */
export function largestBatch(model: Autoencoder): number {
  return Math.floor(largestBufferBytes() / largestActivationBytes(model));
}

/** Throws, naming the limit, unless `images` fit in one pass on the current backend. */
export function assertBatchFits(model: Autoencoder, images: number): void {
  const limit = largestBatch(model);
  if (images <= limit) return;
  const megabytes = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
  const need = `a batch of ${images} needs ${megabytes(images * largestActivationBytes(model))} buffers, and this adapter binds at most ${megabytes(largestBufferBytes())}`;
  throw new Error(limit === 0 ? `${need}: not even one field of this model fits` : `${need}: at most ${limit} fields per batch`);
}
