/**
 * The project's kernels for tfjs-backend-webgpu, registered over tfjs's own in tfjs's kernel
 * registry, each handing the shapes it does not improve back to tfjs's:
 * - direct convolutions (webgpu-direct-conv.ts) for layers with one input or one output channel,
 *   where tfjs's tiled matrix product is mostly empty tiles; tfjs's product stays for the others,
 *   where it is faster (measured on lavapipe: README, "Compute backends");
 * - on a hardware GPU, also the input gradient of those layers, by the same argument, and the
 *   weight gradient split into chunks (webgpu-conv-filter.ts). On a software adapter (lavapipe)
 *   neither is faster than tfjs's, so tfjs's stay there;
 * - Sum and Mean over many values in two steps (webgpu-reduce.ts), where tfjs's uses one
 *   workgroup per output, and over axes of size 1 as a reshape.
 * Load this module only after tfjs-backend-webgpu has registered its backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { chunkedConv2DBackpropFilter } from './webgpu-conv-filter.js';
import { directConv2D, directConv2DBackpropInput, type ConvInfo } from './webgpu-direct-conv.js';
import { twoStepReduction } from './webgpu-reduce.js';

export type WebGpuKernels = 'ours' | 'tfjs';
export type AdapterKind = 'hardware' | 'software';

/** Our kernels' knobs, for the model benchmark to compare; each has a default where it is used. */
export interface KernelTuning {
  /** The chunked weight gradient's target thread count (webgpu-conv-filter.ts). */
  filterThreads?: number | undefined;
}

type Replacement = (tfjs: tf.KernelFunc, tuning: KernelTuning) => tf.KernelFunc;

const thin = (info: ConvInfo) => info.inChannels === 1 || info.outChannels === 1;

/** tfjs's own kernels, kept from before the first replacement. */
const tfjsKernels = new Map<string, tf.KernelFunc>();

const EVERY_ADAPTER: Record<string, Replacement> = {
  [tf.Conv2D]: (tfjs) => directConv2D(tfjs, thin),
  [tf.FusedConv2D]: (tfjs) => directConv2D(tfjs, thin),
  [tf.Sum]: (tfjs) => twoStepReduction('sum', tfjs),
  [tf.Mean]: (tfjs) => twoStepReduction('mean', tfjs),
};

const OURS: Record<AdapterKind, Record<string, Replacement>> = {
  hardware: {
    ...EVERY_ADAPTER,
    [tf.Conv2DBackpropInput]: (tfjs) => directConv2DBackpropInput(tfjs, thin),
    [tf.Conv2DBackpropFilter]: (tfjs, { filterThreads }) => chunkedConv2DBackpropFilter(tfjs, filterThreads),
  },
  software: EVERY_ADAPTER,
};

const REPLACEABLE = [tf.Conv2D, tf.FusedConv2D, tf.Conv2DBackpropInput, tf.Conv2DBackpropFilter, tf.Sum, tf.Mean];

let adapter: AdapterKind = 'hardware';

/** Says what the webgpu backend runs on; backends.ts calls it once the adapter is known, before useWebGpuKernels. */
export function setWebGpuAdapter(kind: AdapterKind): void {
  adapter = kind;
}

/** Registers the project's kernels for this adapter over tfjs's (or tfjs's back) for the webgpu backend. */
export function useWebGpuKernels(kernels: WebGpuKernels, tuning: KernelTuning = {}): void {
  for (const name of REPLACEABLE) {
    const registered = tf.getKernel(name, 'webgpu');
    if (!registered) throw new Error(`the webgpu backend has no ${name} kernel: is it registered?`);
    if (!tfjsKernels.has(name)) tfjsKernels.set(name, registered.kernelFunc);
    const tfjs = tfjsKernels.get(name)!;
    const ours = OURS[adapter][name];
    tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel({ kernelName: name, backendName: 'webgpu', kernelFunc: kernels === 'ours' && ours ? ours(tfjs, tuning) : tfjs });
  }
}
