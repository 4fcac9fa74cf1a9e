import type { Autoencoder } from '../../model/autoencoder.js';
import { assertCroppedShape, embedFields, type BatchEncoder } from '../../model/embed.js';
import { StageUnavailableError, type Stage } from '../stage.js';
import type { EmbeddedField, NormalizedField } from '../types.js';
import { MicroBatcher, type Schedule } from './micro-batcher.js';

export interface EncodeBatching {
  /** Fields encoded together at most (1: each field alone, at once). */
  maxBatch: number;
  /** How long a field waits for others to join its batch. */
  maxWaitMs: number;
  /** Called with the size of each batch encoded (hrrr_embed_encode_batch_size). */
  onBatch?(size: number): void;
  /** A shutdown: from then on a batch waits for no more fields, since no more analyses are taken. */
  stopWaiting?: AbortSignal;
  schedule?: Schedule;
}

/** A model as the encoder runs it: a version, and where its batches are encoded. */
export interface EncoderModel {
  autoencoder: Autoencoder;
  /** Default: in this thread (embedFields). */
  encodeBatch?: BatchEncoder;
}

export interface EncodeConfig {
  /**
   * The model to encode with, asked as each batch starts: a newly promoted model takes over
   * between batches, never within one. Every version it gives has the same input shape.
   */
  model: () => EncoderModel;
  /** The tfjs backend the model runs on (selectBackend's choice), recorded with each embedding. */
  backend: string;
  /** Fields from concurrent callers encoded in one pass of the model; default each field alone. */
  batching?: EncodeBatching;
}

/** One model for good: what a command that never swaps models gives the encoder. */
export function fixedModel(autoencoder: Autoencoder, encodeBatch?: BatchEncoder): () => EncoderModel {
  const model = { autoencoder, ...(encodeBatch && { encodeBatch }) };
  return () => model;
}

/**
 * NormalizedField -> EmbeddedField: the embedding and the reconstruction error, in one pass of the
 * model, with the version that made them. With `batching`, the fields that concurrent callers (the
 * analyses in flight) give this one stage are encoded together; a field of the wrong shape is
 * rejected before it joins a batch.
 */
export function createEncodeStage({ model, backend, batching = { maxBatch: 1, maxWaitMs: 0 } }: EncodeConfig): Stage<NormalizedField, EmbeddedField> {
  const batcher = new MicroBatcher({
    ...batching,
    run: async (fields: NormalizedField[]) => {
      const { autoencoder, encodeBatch = (batch) => embedFields(autoencoder, batch) } = model();
      const embeddings = await encodeBatch(fields).catch((error: unknown) => {
        throw isOutOfResources(error) ? new EncoderResourceError(fields.length, error) : error;
      });
      return embeddings.map((embedded) => ({ ...embedded, version: autoencoder.version }));
    },
    // A batch too big for the memory there is: its fields may pass alone, and need not be dead letters for it.
    retryAlone: (error) => error instanceof EncoderResourceError,
  });
  return {
    name: 'encode',
    async *process(normalized, { log }) {
      const { source, field, height, width, values } = normalized;
      assertCroppedShape(model().autoencoder.config, [height, width, 1]);
      if (values.length !== height * width) throw new Error(`a field of ${height} x ${width} has ${height * width} values, not ${values.length}`);
      const { embedding, reconstructionError, version } = await batcher.submit(normalized);
      assertFinite(embedding, reconstructionError, version);
      log.debug({ key: source.key, reconstructionError, version }, 'encoded');
      yield { source, field, embedding, reconstructionError, model: { version, backend } };
    },
  };
}

/** The encoder could not get the memory for a batch: the batch's size, or a field too big even alone. */
export class EncoderResourceError extends Error {
  override readonly name = 'EncoderResourceError';
  constructor(fields: number, override readonly cause: Error) {
    super(`out of resources encoding ${fields === 1 ? 'this field alone' : `${fields} fields together`}: ${cause.name}: ${cause.message}`, { cause });
  }
}

/**
 * Whether an encoder's failure is running out of memory: V8's "Array buffer allocation failed"
 * (a RangeError), a wasm module's abort on memory it cannot grow, tfjs's OOM. Matched by message,
 * as the encoder thread sends back only the message.
 */
function isOutOfResources(error: unknown): error is Error {
  return error instanceof Error && /allocation failed|out of memory|\bOOM\b|cannot enlarge memory/i.test(error.message);
}

/**
 * Throws unless the model's output is all numbers. Its input is bounded by the normalization, so a
 * NaN or infinity says the model is broken (in training), not the field: a StageUnavailableError,
 * which fails the run for a restart with another version instead of dead-lettering every field.
 */
function assertFinite(embedding: Float32Array, reconstructionError: number, version: string): void {
  const at = embedding.findIndex((value) => !Number.isFinite(value));
  if (at >= 0) throw new StageUnavailableError(`the model gave a non-finite embedding (${embedding[at]} at ${at}): model version ${version} is broken`);
  if (!Number.isFinite(reconstructionError)) throw new StageUnavailableError(`the model gave a non-finite reconstruction error (${reconstructionError}): model version ${version} is broken`);
}
