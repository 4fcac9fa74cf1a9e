/**
 * Chooses the compute backend the model runs on: `tensorflow` (libtensorflow through
 * @tensorflow/tfjs-node-gpu or tfjs-node, when the user has installed one), `webgpu` (Dawn's
 * Node bindings over Vulkan: a GPU, or Mesa's lavapipe on a CPU), `wasm` (inference only) or
 * `cpu` (plain JavaScript). `auto` takes the fastest that can do the job and says why.
 */
import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { StageLogger } from '../stages/stage.js';
import { correctCpuResizeNearestNeighborGrad } from './cpu-resize-grad.js';
import { ConfigError } from './config.js';

export const DEVICES = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type Device = (typeof DEVICES)[number];
export type Backend = Exclude<Device, 'auto'>;
export type Purpose = 'inference' | 'training';

export interface BackendChoice {
  backend: Backend;
  /** The hardware (or software) it runs on, in the driver's words. */
  adapter: string;
  /** Why this one: what `auto` skipped, or that it was asked for. */
  reason: string;
}

/** A backend that cannot run here, or cannot do what is asked of it. */
export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
  constructor(
    readonly backend: Backend,
    message: string,
  ) {
    super(`${backend}: ${message}`);
  }
}

/** Kernels a training step of the autoencoder needs beyond the forward pass. */
const TRAINING_KERNELS = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad'];

// Silences tfjs's console advice to install tfjs-node: the choice and its reason are logged here.
tf.env().set('PROD', true);

export function parseDevice(value: string): Device {
  if ((DEVICES as readonly string[]).includes(value)) return value as Device;
  throw new ConfigError('device', `unknown device ${JSON.stringify(value)} (known: ${DEVICES.join(', ')})`);
}

/**
 * Makes the chosen backend tfjs's current one and logs the choice with its adapter.
 * Asking for training on a backend that cannot train fails here, before any work.
 */
export async function selectBackend(device: Device, purpose: Purpose, log: StageLogger): Promise<BackendChoice> {
  const choice = device === 'auto' ? await chooseAutomatically(purpose) : { ...(await activate(device, purpose)), reason: `asked for with --device ${device}` };
  log.info({ backend: choice.backend, adapter: choice.adapter, purpose, reason: choice.reason }, 'compute backend');
  return choice;
}

/**
 * The order follows what was measured (README, "Compute backends"): libtensorflow, then a
 * hardware GPU through WebGPU; for inference on a CPU, wasm (about 20 times faster than lavapipe);
 * for training on a CPU, lavapipe (wasm cannot train, and it beats plain JavaScript).
 */
async function chooseAutomatically(purpose: Purpose): Promise<BackendChoice> {
  const skipped: string[] = [];
  const attempt = async (backend: Backend, accept: (adapter: Activated) => string | undefined = () => undefined) => {
    try {
      const activated = await activate(backend, purpose);
      const refusal = accept(activated);
      if (refusal === undefined) return activated;
      skipped.push(`${backend}: ${refusal}`);
    } catch (error) {
      skipped.push(error instanceof Error ? error.message : String(error));
    }
    return undefined;
  };
  const hardwareOnly = ({ software }: Activated) => (software ? 'a software adapter, slower here than the next choice' : undefined);
  const order: Array<[Backend, ((adapter: Activated) => string | undefined)?]> =
    purpose === 'inference'
      ? [['tensorflow'], ['webgpu', hardwareOnly], ['wasm'], ['cpu']]
      : [['tensorflow'], ['webgpu'], ['cpu']];
  for (const [backend, accept] of order) {
    const activated = await attempt(backend, accept);
    if (activated) {
      const why = `auto for ${purpose}: the fastest available${skipped.length ? `; skipped ${skipped.join('; ')}` : ''}`;
      return { ...activated, reason: why };
    }
  }
  throw new BackendUnavailableError('cpu', `no backend could start: ${skipped.join('; ')}`);
}

interface Activated {
  backend: Backend;
  adapter: string;
  software: boolean;
}

async function activate(backend: Backend, purpose: Purpose): Promise<Activated> {
  const { adapter, software } = await register(backend);
  await withoutProcessHandlersOfItsOwn(async () => {
    if (!(await tf.setBackend(backend))) throw new BackendUnavailableError(backend, 'tfjs could not initialise it');
    await tf.ready();
  });
  if (purpose === 'training') assertCanTrain(backend);
  return { backend, adapter, software };
}

/**
 * Runs `start` (a backend's initialisation), then removes the uncaughtException and
 * unhandledRejection handlers it added: tfjs-backend-wasm's Emscripten glue installs two that
 * rethrow, and an exception thrown in such a handler ends Node with exit code 7 before the
 * command's own handler can log it and exit 1 (cli/main.ts).
 */
async function withoutProcessHandlersOfItsOwn(start: () => Promise<void>): Promise<void> {
  const events = ['uncaughtException', 'unhandledRejection'];
  // As a plain emitter: Node's own typing of process has an overload per event name.
  const emitter: NodeJS.EventEmitter = process;
  const before = new Map(events.map((event) => [event, new Set(emitter.listeners(event))]));
  try {
    await start();
  } finally {
    for (const event of events) {
      for (const listener of emitter.listeners(event)) if (!before.get(event)!.has(listener)) emitter.off(event, listener as (...args: unknown[]) => void);
    }
  }
}

/** Whether a registered backend has the kernels a training step needs (wasm has not). */
export function canTrain(backend: string): boolean {
  return TRAINING_KERNELS.every((kernel) => tf.getKernel(kernel, backend));
}

export function assertCanTrain(backend: string): void {
  const missing = TRAINING_KERNELS.filter((kernel) => !tf.getKernel(kernel, backend));
  if (missing.length) throw new BackendUnavailableError(backend as Backend, `cannot train: it has no ${missing.join(', ')} kernel (use webgpu, tensorflow or cpu)`);
}

/**
 * The largest buffer one kernel may bind on the current backend: a WebGPU adapter's limit (128 MiB
 * on lavapipe), unlimited elsewhere. A tensor larger than that fails on webgpu, so batches are
 * split to fit (model/embed.ts) or refused before a training step (model/train.ts).
 */
export function largestBufferBytes(): number {
  const device = (tf.backend() as { device?: { limits: { maxStorageBufferBindingSize: number } } }).device;
  return tf.getBackend() === 'webgpu' && device ? device.limits.maxStorageBufferBindingSize : Infinity;
}

/** Loads the backend's package (once) and describes what it runs on. */
async function register(backend: Backend): Promise<{ adapter: string; software: boolean }> {
  const processor = cpus()[0]?.model.trim() ?? 'unknown CPU';
  switch (backend) {
    case 'cpu':
      correctCpuResizeNearestNeighborGrad();
      return { adapter: `JavaScript on ${processor}`, software: true };
    case 'wasm':
      await import('@tensorflow/tfjs-backend-wasm');
      return { adapter: `WebAssembly on ${processor}`, software: true };
    case 'webgpu':
      return registerWebGpu();
    case 'tensorflow':
      return registerTensorflow();
  }
}

let webGpuAdapter: Promise<{ adapter: string; software: boolean }> | undefined;

/** Dawn's bindings become the navigator.gpu that tfjs-backend-webgpu looks for, before it is loaded. */
function registerWebGpu(): Promise<{ adapter: string; software: boolean }> {
  webGpuAdapter ??= (async () => {
    if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = '/tmp';
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    const gpu = create([]);
    Object.defineProperty(globalThis, 'navigator', { value: { ...(globalThis as { navigator?: object }).navigator, gpu }, configurable: true, writable: true });
    const found = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!found) throw new BackendUnavailableError('webgpu', 'no WebGPU adapter: no Vulkan driver? (infra/install-vulkan.sh installs Mesa lavapipe for a CPU)');
    await import('@tensorflow/tfjs-backend-webgpu');
    const { vendor, architecture, device, description } = found.info;
    const software = architecture === 'software' || /llvmpipe|lavapipe|swiftshader/i.test(`${device} ${description}`);
    const { setWebGpuAdapter, useWebGpuKernels } = await import('./webgpu-kernels.js');
    setWebGpuAdapter(software ? 'software' : 'hardware');
    useWebGpuKernels('ours');
    return { adapter: [vendor, description || device, architecture && `(${architecture})`].filter(Boolean).join(' '), software };
  })();
  webGpuAdapter.catch(() => (webGpuAdapter = undefined));
  return webGpuAdapter;
}

/** libtensorflow bindings are an optional install (their install script downloads libtensorflow). */
async function registerTensorflow(): Promise<{ adapter: string; software: boolean }> {
  const failures: string[] = [];
  for (const name of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(/* a name, so TypeScript does not need the optional package */ name);
      return { adapter: `libtensorflow through ${name}`, software: false };
    } catch (error) {
      const notInstalled = (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND';
      failures.push(notInstalled ? `${name} is not installed` : `${name}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  throw new BackendUnavailableError(
    'tensorflow',
    `${failures.join(', ')} (npm install @tensorflow/tfjs-node-gpu@4.22, or tfjs-node, where its install can download libtensorflow)`,
  );
}
