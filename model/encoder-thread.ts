import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { StageUnavailableError } from '../stages/stage.js';
import type { Autoencoder } from './autoencoder.js';
import type { ModelConfig, NormalizationConfig } from './config.js';
import { assertCroppedShape, stackFields, type BatchEncoder, type Embedding } from './embed.js';

/** What the worker is started with: the model as tfjs saves it, and the backend to run it on. */
export interface EncoderWorkerData {
  artifacts: tf.io.ModelArtifacts;
  config: ModelConfig;
  normalization: NormalizationConfig;
  version: string;
  backend: string;
}

/** One batch of `count` cropped fields, height x width each, row after row in `values`. */
export interface BatchRequest {
  id: number;
  count: number;
  height: number;
  width: number;
  values: Float32Array;
}

export type BatchReply = { id: number; embeddings: Float32Array; errors: Float32Array } | { id: number; error: string };

/** Whether tfjs computes synchronously on this backend, blocking the thread that calls it. */
export function computesOnCallingThread(backend: string): boolean {
  return backend === 'cpu' || backend === 'wasm';
}

/**
 * A copy of `model` in a worker thread, on `backend` (tfjs's state is per thread: the worker
 * loads the weights from the model's saved artifacts), and the encoder that sends it batches.
 * Resolves once the worker has loaded the model; `close` ends the worker. `script` is the
 * worker's entry (encoder-worker.js; tests give one that fails).
 */
export async function startEncoderThread(
  model: Autoencoder,
  backend: string,
  script: URL = new URL('./encoder-worker.js', import.meta.url),
): Promise<{ encodeBatch: BatchEncoder; close(): Promise<void> }> {
  const artifacts = await savedArtifacts(model);
  const workerData: EncoderWorkerData = { artifacts, config: model.config, normalization: model.normalization, version: model.version, backend };
  const worker = new Worker(script, { workerData });
  const pending = new Map<number, { resolve(embeddings: Embedding[]): void; reject(error: Error): void }>();
  let nextId = 0;
  let failure: StageUnavailableError | undefined;
  const failAll = (error: StageUnavailableError) => {
    failure ??= error;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  worker.on('error', (error) => failAll(new StageUnavailableError(`the encoder thread failed: ${error.message}`, { cause: error })));
  worker.on('exit', (code) => failAll(new StageUnavailableError(`the encoder thread exited (code ${code})`)));

  await new Promise<void>((resolve, reject) => {
    worker.once('message', (message: { ready: boolean; error?: string }) => (message.ready ? resolve() : reject(new Error(`the encoder thread could not load the model: ${message.error}`))));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the encoder thread exited (code ${code}) while it loaded the model`)));
  }).catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });

  worker.on('message', (reply: BatchReply) => {
    const caller = pending.get(reply.id);
    if (!caller) return;
    pending.delete(reply.id);
    if ('error' in reply) return caller.reject(new Error(reply.error));
    const size = model.config.numdense;
    caller.resolve(Array.from(reply.errors, (reconstructionError, i) => ({ embedding: reply.embeddings.slice(i * size, (i + 1) * size), reconstructionError })));
  });

  const encodeBatch: BatchEncoder = async (fields) => {
    if (failure) throw failure;
    const { values, shape } = stackFields(fields);
    const [count, height, width] = shape;
    assertCroppedShape(model.config, shape.slice(1));
    const id = nextId++;
    return new Promise<Embedding[]>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, count, height, width, values } satisfies BatchRequest, [values.buffer]);
    });
  };
  return {
    encodeBatch,
    async close() {
      failAll(new StageUnavailableError('the encoder thread is closed'));
      worker.removeAllListeners('exit');
      await worker.terminate();
    },
  };
}

/** The model's topology and weights as tfjs saves them, in memory. */
async function savedArtifacts(model: Autoencoder): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.autoencoder.save(
    tf.io.withSaveHandler(async (saved) => {
      artifacts = saved;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return artifacts!;
}
