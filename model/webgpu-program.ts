/**
 * What the project's own webgpu kernels share: running a WGSL program through tfjs-backend-webgpu
 * with one thread per output value. tfjs's shader header supplies the program's entry point (which
 * calls its `fn main(index : i32)`), a getter per input (getX for "x"), its shape as a uniform
 * (uniforms.xShape), getCoordsFromIndex and setOutputAtIndex for the output, and uniforms.size.
 */
import * as tf from '@tensorflow/tfjs-core';
import { webgpu_util } from '@tensorflow/tfjs-backend-webgpu';

/** The part of tfjs-backend-webgpu's WebGPUBackend these kernels use. */
export interface ProgramRunner {
  runWebGPUProgram(program: object, inputs: tf.TensorInfo[], outputDtype: tf.DataType, uniforms: Uniform[]): tf.TensorInfo;
  disposeData(dataId: object): boolean;
}

export interface Uniform {
  type: 'int32' | 'float32';
  data: number[];
}

export interface Program {
  variableNames: string[];
  /** WGSL declarations of the uniforms beyond the shapes and size, in the order of the values passed. */
  uniforms: string;
  /** Unique among all programs, tfjs's included: tfjs caches compiled shaders by it. */
  shaderKey: string;
  getUserCode: () => string;
}

const WORKGROUP: [number, number, number] = [64, 1, 1];

export function runProgram(backend: ProgramRunner, program: Program, outputShape: number[], inputs: tf.TensorInfo[], uniforms: Uniform[]): tf.TensorInfo {
  const dispatchLayout = webgpu_util.flatDispatchLayout(outputShape);
  const full = { ...program, outputShape, dispatchLayout, dispatch: webgpu_util.computeDispatch(dispatchLayout, outputShape, WORKGROUP), workgroupSize: WORKGROUP, size: true };
  return backend.runWebGPUProgram(full, inputs, 'float32', uniforms);
}

export const int = (...data: number[]): Uniform => ({ type: 'int32', data });

/** The webgpu backend's Sum of a program's partial sums along `axis`; the partial sums are freed. */
export function sumPartials(partial: tf.TensorInfo, axis: number, backend: object): tf.TensorInfo {
  try {
    const sum = tf.getKernel(tf.Sum, 'webgpu')!.kernelFunc;
    return sum({ inputs: { x: partial }, backend, attrs: { axis: [axis], keepDims: false } as unknown as tf.NamedAttrMap }) as tf.TensorInfo;
  } finally {
    (backend as unknown as ProgramRunner).disposeData(partial.dataId);
  }
}
