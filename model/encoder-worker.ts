/**
 * The entry of the encoder's worker thread (see encoder-thread.ts): loads the model it is sent on
 * the backend it is told, then answers each batch of cropped fields with their embeddings, so that
 * a synchronous backend (cpu, wasm) computes away from the main thread's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { silentLogger } from '../stages/stage.js';
import { withSharedModels } from './autoencoder.js';
import { selectBackend, type Backend } from './backends.js';
import { embedBatch } from './embed.js';
import type { BatchReply, BatchRequest, EncoderWorkerData } from './encoder-thread.js';

const { artifacts, config, normalization, version, backend } = workerData as EncoderWorkerData;
const port = parentPort!;

async function load() {
  await selectBackend(backend as Backend, 'inference', silentLogger);
  return withSharedModels(await tfl.loadLayersModel(tf.io.fromMemory(artifacts)), config, normalization, version);
}

const loading = load();
loading.then(
  () => port.postMessage({ ready: true }),
  (error: unknown) => port.postMessage({ ready: false, error: error instanceof Error ? error.message : String(error) }),
);

port.on('message', async ({ id, count, height, width, values }: BatchRequest) => {
  let reply: BatchReply;
  try {
    const model = await loading;
    const batch = tf.tensor4d(values, [count, height, width, 1]);
    const embeddings = await embedBatch(model, batch).finally(() => batch.dispose());
    const flat = new Float32Array(embeddings.length * config.numdense);
    embeddings.forEach(({ embedding }, i) => flat.set(embedding, i * config.numdense));
    reply = { id, embeddings: flat, errors: Float32Array.from(embeddings, ({ reconstructionError }) => reconstructionError) };
  } catch (error) {
    reply = { id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply, 'error' in reply ? [] : [reply.embeddings.buffer as ArrayBuffer, reply.errors.buffer as ArrayBuffer]);
});
