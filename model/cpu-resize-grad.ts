/**
 * A correct ResizeNearestNeighborGrad for tfjs-backend-cpu, registered over tfjs 4.22's, whose
 * images after the first in a batch read their gradient at the wrong place: it steps through dy
 * by the batch stride of the smaller input, not of dy (kernels/ResizeNearestNeighborGrad.js,
 * `batchOffset`). Every UpSampling2D layer of the autoencoder trained on the cpu backend with
 * batches of more than one field got wrong gradients. Each value of dy is added to the input
 * point it was copied from, found as the forward kernel finds it.
 */
import * as tf from '@tensorflow/tfjs-core';

interface ResizeAttrs {
  alignCorners: boolean;
  halfPixelCenters?: boolean;
}

/** The backend's data, as tfjs-backend-cpu keeps it. */
interface CpuBackend {
  data: { get(dataId: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

let tfjsKernel: tf.KernelFunc | undefined;

/** Puts the corrected kernel in place of tfjs's for the cpu backend (once). */
export function correctCpuResizeNearestNeighborGrad(): void {
  const registered = tf.getKernel(tf.ResizeNearestNeighborGrad, 'cpu');
  if (!registered || registered.kernelFunc === resizeNearestNeighborGrad) return;
  tfjsKernel = registered.kernelFunc;
  tf.unregisterKernel(tf.ResizeNearestNeighborGrad, 'cpu');
  tf.registerKernel({ kernelName: tf.ResizeNearestNeighborGrad, backendName: 'cpu', kernelFunc: resizeNearestNeighborGrad });
}

const resizeNearestNeighborGrad: tf.KernelFunc = (args) => {
  const { images, dy } = args.inputs as { images: tf.TensorInfo; dy: tf.TensorInfo };
  const { alignCorners, halfPixelCenters = false } = args.attrs as unknown as ResizeAttrs;
  // tfjs's forward kernel samples half-pixel centres differently; its gradient never supported them.
  if (halfPixelCenters) return tfjsKernel!(args);
  const backend = args.backend as unknown as CpuBackend;
  const [batch, inHeight, inWidth, depth] = images.shape as [number, number, number, number];
  const [, outHeight, outWidth] = dy.shape as [number, number, number, number];
  const source = (out: number, outSize: number, inSize: number) => {
    const scale = alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
    return Math.min(inSize - 1, alignCorners ? Math.round(out * scale) : Math.floor(out * scale));
  };
  const sourceRows = Array.from({ length: outHeight }, (_, y) => source(y, outHeight, inHeight));
  const sourceColumns = Array.from({ length: outWidth }, (_, x) => source(x, outWidth, inWidth));
  const gradient = backend.data.get(dy.dataId).values;
  const output = new Float32Array(batch * inHeight * inWidth * depth);
  let at = 0;
  for (let b = 0; b < batch; b++) {
    for (let y = 0; y < outHeight; y++) {
      const row = (b * inHeight + sourceRows[y]!) * inWidth;
      for (let x = 0; x < outWidth; x++) {
        const to = (row + sourceColumns[x]!) * depth;
        for (let d = 0; d < depth; d++) output[to + d] += gradient[at++]!;
      }
    }
  }
  return backend.makeTensorInfo(images.shape, 'float32', output);
};
