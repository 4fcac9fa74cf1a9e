/**
 * A faster Conv2DBackpropFilter (the weight gradient of a convolution) for tfjs-backend-webgpu.
 *
 * tfjs 4.22's kernel runs one GPU thread per filter element, each summing serially over
 * batch x height x width. For the autoencoder's full-resolution layers that is 256 or 144 threads
 * each summing 4 x 1024 x 1792 products, which left a GPU all but idle and made up nearly all of a
 * training step on an H100 (../shared/gpu/README.md). Here each thread sums one filter element
 * over a chunk of output rows, and tfjs's own Sum adds the chunks up. Shapes it is not needed for
 * (channels first, or filters big enough to fill the GPU by themselves) go to the original kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { int, runProgram, sumPartials, type ProgramRunner } from './webgpu-program.js';

/**
 * How many threads the chunks aim at: an H100 keeps about 270,000 resident, and more chunks cost
 * only a larger array of partial sums (a megabyte at this count). `npm run bench -- model
 * --filter-threads` compares others.
 */
const DEFAULT_FILTER_THREADS = 1 << 18;

interface Conv2DBackpropFilterAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/** The chunked kernel, leaving to `fallback` (tfjs's) the shapes it is not needed for. */
export function chunkedConv2DBackpropFilter(fallback: tf.KernelFunc, targetThreads = DEFAULT_FILTER_THREADS): tf.KernelFunc {
  return (args) => {
    const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      attrs.filterShape,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      tf.backend_util.convertConv2DDataFormat(attrs.dataFormat),
    );
    const filterSize = tf.util.sizeFromShape(info.filterShape);
    const rows = info.batchSize * info.outHeight;
    const chunks = Math.min(rows, Math.ceil(targetThreads / filterSize));
    if (info.dataFormat !== 'channelsLast' || chunks <= 1) return fallback(args);

    const rowsPerChunk = Math.ceil(rows / chunks);
    const backend = args.backend as unknown as ProgramRunner;
    const program = {
      variableNames: ['x', 'dy'],
      uniforms:
        'pads : vec2<i32>, strides : vec2<i32>, outHeight : i32, outWidth : i32, inHeight : i32, inWidth : i32, ' +
        'filterHeight : i32, filterWidth : i32, inChannels : i32, outChannels : i32, rows : i32, rowsPerChunk : i32,',
      shaderKey: 'hrrrEmbedConv2DBackpropFilterChunked',
      getUserCode: () => PARTIAL_SUMS_WGSL,
    };
    const partial = runProgram(backend, program, [Math.ceil(rows / rowsPerChunk), ...info.filterShape], [x, dy], [
      int(info.padInfo.top, info.padInfo.left),
      int(info.strideHeight, info.strideWidth),
      int(info.outHeight),
      int(info.outWidth),
      int(info.inHeight),
      int(info.inWidth),
      int(info.filterHeight),
      int(info.filterWidth),
      int(info.inChannels),
      int(info.outChannels),
      int(rows),
      int(rowsPerChunk),
    ]);
    return sumPartials(partial, 0, args.backend);
  };
}

/**
 * Output [chunk, wR, wC, d1, d2]: the sum over the chunk's output rows (batch and row together)
 * and all output columns of x(b, xR, xC, d1) * dy(b, yR, yC, d2).
 */
const PARTIAL_SUMS_WGSL = `
  fn main(index : i32) {
    if (index >= uniforms.size) {
      return;
    }
    let perChunk = uniforms.filterHeight * uniforms.filterWidth * uniforms.inChannels * uniforms.outChannels;
    let chunk = index / perChunk;
    var rest = index - chunk * perChunk;
    let d2 = rest % uniforms.outChannels;
    rest = rest / uniforms.outChannels;
    let d1 = rest % uniforms.inChannels;
    rest = rest / uniforms.inChannels;
    let wC = rest % uniforms.filterWidth;
    let wR = rest / uniforms.filterWidth;
    let firstRow = chunk * uniforms.rowsPerChunk;
    let endRow = min(firstRow + uniforms.rowsPerChunk, uniforms.rows);
    var dotProd = 0.0;
    for (var row = firstRow; row < endRow; row = row + 1) {
      let b = row / uniforms.outHeight;
      let yR = row - b * uniforms.outHeight;
      let xR = wR + yR * uniforms.strides[0] - uniforms.pads[0];
      if (xR < 0 || xR >= uniforms.inHeight) {
        continue;
      }
      for (var yC = 0; yC < uniforms.outWidth; yC = yC + 1) {
        let xC = wC + yC * uniforms.strides[1] - uniforms.pads[1];
        if (xC < 0 || xC >= uniforms.inWidth) {
          continue;
        }
        dotProd = dotProd + getX(b, xR, xC, d1) * getDy(b, yR, yC, d2);
      }
    }
    setOutputAtIndex(index, dotProd);
  }
`;
