/**
 * Sum and Mean over many values for tfjs-backend-webgpu, in two steps.
 *
 * tfjs 4.22 gives each output of a reduction one workgroup (at most 512 threads). The training
 * loss is one mean over every point of the batch, and a bias gradient of a full-resolution layer
 * a sum over 1.8 million points per image: one workgroup, on one of a GPU's 132 multiprocessors
 * (on lavapipe, one core: 1.1 s of a 20 s training step). Here the threads of each output take
 * every `chunks`-th value (neighbouring threads read neighbouring values), and tfjs's own Sum adds
 * up their partial sums, a few thousand per output (in turn in two steps past 65,536).
 *
 * At the other extreme, the log-cosh loss takes a mean over the channel axis, of size 1: tfjs
 * launches a workgroup per point for it (184 ms of a 3.3 s training step at 512 x 512 on
 * lavapipe). A reduction over axes of size 1 is a reshape, and is done as one here.
 */
import * as tf from '@tensorflow/tfjs-core';
import { int, runProgram, sumPartials, type ProgramRunner } from './webgpu-program.js';

/** Reductions of fewer values per output are left to tfjs's kernel, which does them in one step. */
const SMALLEST = 1 << 16;

/** Values each thread adds up. */
const PER_THREAD = 1024;

/** Sum or Mean of float32 values over axes of size 1, or over trailing axes of many values; other reductions go to `fallback`. */
export function twoStepReduction(kind: 'sum' | 'mean', fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const trailing = axes.every((a, i) => a === x.shape.length - axes.length + i);
    const [outerShape, reducedShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
    const inner = tf.util.sizeFromShape(reducedShape);
    const shape = keepDims ? tf.backend_util.expandShapeToKeepDim(outerShape, axes) : outerShape;
    const reshape = (t: tf.TensorInfo) => tf.getKernel(tf.Reshape, 'webgpu')!.kernelFunc({ inputs: { x: t }, backend: args.backend, attrs: { shape } as unknown as tf.NamedAttrMap }) as tf.TensorInfo;
    if (x.dtype !== 'float32') return fallback(args);
    if (inner === 1) return reshape(x);
    if (!trailing || inner < SMALLEST) return fallback(args);

    const outer = tf.util.sizeFromShape(outerShape);
    const chunks = Math.ceil(inner / PER_THREAD);
    const backend = args.backend as unknown as ProgramRunner;
    const program = {
      variableNames: ['x'],
      uniforms: 'inner : i32, chunks : i32, scale : f32,',
      shaderKey: 'hrrrEmbedTwoStepReduction',
      getUserCode: () => PARTIAL_SUMS_WGSL,
    };
    const partial = runProgram(backend, program, [outer, chunks], [x], [int(inner), int(chunks), { type: 'float32', data: [kind === 'mean' ? 1 / inner : 1] }]);
    const sums = sumPartials(partial, 1, args.backend);
    try {
      return reshape(sums);
    } finally {
      backend.disposeData(sums.dataId);
    }
  };
}

/** Output [outer, chunk]: scale times the sum of x[outer, chunk + k * chunks] over k. */
const PARTIAL_SUMS_WGSL = `
  fn main(index : i32) {
    if (index >= uniforms.size) {
      return;
    }
    let row = index / uniforms.chunks;
    let chunk = index - row * uniforms.chunks;
    let first = row * uniforms.inner;
    var sum = 0.0;
    for (var i = chunk; i < uniforms.inner; i = i + uniforms.chunks) {
      sum = sum + x[first + i];
    }
    setOutputAtIndex(index, sum * uniforms.scale);
  }
`;
